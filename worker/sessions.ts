import * as v from "valibot";
import type { Address } from "../shared/address.js";
import { DEFAULT_LIMITS } from "../shared/discovery.js";
import { SessionClientFrameSchema, type ConvPayload, type SessionServerFrame, type Submit } from "../shared/wire/index.js";

/**
 * The session sockets of one conversation's hub (PROTOCOL §10): members connected straight to
 * the hub get every accepted entry at once, submit without a detour through their own server,
 * and relay WebRTC signaling to each other. Hibernatable: state lives in socket attachments.
 */
export const SESSION_IDLE_MS = DEFAULT_LIMITS.sessionIdleSeconds * 1000;

export interface SessionTag {
  address: Address;
  deviceId: string;
  lastSeen: number;
}

/** Submissions of one frame, in order; `batched`: they came as `submits`, to be answered with one `acks`. */
export type SessionRequest = { kind: "submit"; tag: SessionTag; submits: Submit[]; batched: boolean };

export class Sessions {
  constructor(private readonly ctx: DurableObjectState) {
    // Keep-alive pings are answered without waking the hub; closeIdle reads their timestamps.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(JSON.stringify({ t: "ping" }), JSON.stringify({ t: "pong" })));
  }

  open(address: Address, deviceId: string, now: number): Response {
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [address, `${address}/${deviceId}`]);
    server.serializeAttachment({ address, deviceId, lastSeen: now } satisfies SessionTag);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * Sends every session the new entries, except to the device that submitted one (it has the
   * `ack`), then closes the sessions of accounts no longer members.
   */
  push(payloads: ConvPayload[], members: Address[]): void {
    for (const ws of this.ctx.getWebSockets()) {
      const tag = ws.deserializeAttachment() as SessionTag | null;
      for (const item of payloads) if (item.from !== tag?.address || item.deviceId !== tag.deviceId) this.reply(ws, { t: "item", item });
    }
    this.closeAllBut(members);
  }

  closeAllBut(members: Address[]): void {
    for (const ws of this.ctx.getWebSockets()) {
      const tag = ws.deserializeAttachment() as SessionTag | null;
      if (!tag || !members.includes(tag.address)) ws.close(4003, "no longer a member");
    }
  }

  /** Reads one client frame: answers pings and relays signaling here, hands submissions back. */
  frame(ws: WebSocket, message: string | ArrayBuffer, now: number): SessionRequest | null {
    const tag = ws.deserializeAttachment() as SessionTag | null;
    if (!tag) {
      ws.close(4000, "unknown socket");
      return null;
    }
    ws.serializeAttachment({ ...tag, lastSeen: now } satisfies SessionTag);
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      this.reply(ws, { t: "error", error: "bad_request", message: "A frame must be JSON." });
      return null;
    }
    const frame = v.safeParse(SessionClientFrameSchema, parsed);
    if (!frame.success) {
      this.reply(ws, { t: "error", error: "bad_request", message: frame.issues[0].message });
      return null;
    }
    const f = frame.output;
    if (f.t === "ping") this.reply(ws, { t: "pong" });
    else if (f.t === "rtc") for (const peer of this.ctx.getWebSockets(f.to)) this.reply(peer, { t: "rtc", from: `${tag.address}/${tag.deviceId}`, data: f.data });
    else if (f.t === "submit") return { kind: "submit", tag, submits: [f.submit], batched: false };
    else return { kind: "submit", tag, submits: f.submits, batched: true };
    return null;
  }

  reply(ws: WebSocket, frame: SessionServerFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      return;
    }
  }

  closed(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 ? 1000 : code, "closing");
    } catch {
      return;
    }
  }

  /** Closes sessions idle longer than sessionIdleSeconds; returns when to look again, if any remain. */
  closeIdle(now: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const tag = ws.deserializeAttachment() as SessionTag | null;
      const lastSeen = Math.max(tag?.lastSeen ?? 0, this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0);
      if (!tag || now - lastSeen >= SESSION_IDLE_MS) {
        ws.close(4004, "idle");
        continue;
      }
      const due = lastSeen + SESSION_IDLE_MS;
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }
}
