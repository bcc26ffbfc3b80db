import type { Address } from "../shared/address.js";
import { DEFAULT_LIMITS } from "../shared/discovery.js";
import type { ConvPayload, SessionServerFrame, SignedSessionTicket, Submit } from "../shared/wire/index.js";
import { parseSessionFrame } from "../shared/wire/session-frame.js";

/**
 * The session sockets of one conversation's hub (PROTOCOL §10): members connected straight to
 * the hub get every accepted entry at once, submit without a detour through their own server,
 * and relay WebRTC signaling to each other. Hibernatable: state lives in socket attachments.
 */
export const SESSION_IDLE_MS = DEFAULT_LIMITS.sessionIdleSeconds * 1000;

/**
 * How stale a session's kept lastSeen may be: a busy session's frames rewrite its attachment once
 * per this, not each (a third of a frame's own CPU); closeIdle allows for it, so it closes late by
 * this at most, never early.
 */
const LAST_SEEN_STEP_MS = 1000;

/** A session closed because its ticket expired unrenewed (or its device was removed): PROTOCOL §10. */
export const CLOSE_REVOKED = 4001;

export interface SessionTag {
  address: Address;
  deviceId: string;
  lastSeen: number;
  /** Its latest ticket's expiry: the session ends then unless a fresh ticket renews it. */
  exp: number;
  /** The ticket it opened with, when its member is of another domain: what proves its submissions' author to others (§9). */
  proof?: SignedSessionTicket;
  /** Its device says `got` for what it stores (§10): only then does the hub wait for its word. */
  acks?: true;
}

/**
 * Submissions of one frame, in order (`batched`: they came as `submits`, to be answered with one
 * `acks`), or a fresh ticket for the session, to be checked by the hub.
 */
export type SessionRequest =
  | { kind: "submit"; tag: SessionTag; submits: Submit[]; batched: boolean; got?: number[] }
  | { kind: "renew"; tag: SessionTag; ticket: SignedSessionTicket }
  | { kind: "got"; tag: SessionTag; seqs: number[] };

/** Whether a session's ticket still holds; a tag from before tickets were kept counts as expired. */
function current(tag: SessionTag, now: number): boolean {
  return tag.exp > now;
}

/** Ends a session whose ticket ran out; one closing already is left alone. */
function expire(ws: WebSocket): void {
  try {
    ws.close(CLOSE_REVOKED, "session ticket expired");
  } catch {
    // Closing already: the end we wanted.
  }
}

export class Sessions {
  /**
   * Each session's tag as last read or written while this object is awake: every frame, push and
   * reply reads it, and deserializing it each time was ~4% of the hub's CPU a round trip. Only
   * retag writes tags, so the attachment and this never differ; after hibernation it is read afresh.
   */
  readonly #tags = new WeakMap<WebSocket, SessionTag>();

  constructor(private readonly ctx: DurableObjectState) {
    // Keep-alive pings are answered without waking the hub; closeIdle reads their timestamps.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(JSON.stringify({ t: "ping" }), JSON.stringify({ t: "pong" })));
  }

  open(address: Address, deviceId: string, now: number, exp: number, proof?: SignedSessionTicket): Response {
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [address, `${address}/${deviceId}`]);
    this.retag(server, { address, deviceId, lastSeen: now, exp, ...(proof ? { proof } : {}) });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** A checked fresh ticket extends the session to its expiry. */
  extend(ws: WebSocket, exp: number): void {
    const tag = this.tag(ws);
    if (!tag) return;
    this.retag(ws, { ...tag, exp: Math.max(tag.exp, exp) });
    this.send(ws, { t: "renewed", exp: Math.max(tag.exp, exp) });
  }

  /** Closes a removed device's sessions at once. */
  closeDevice(address: Address, deviceId: string): void {
    for (const ws of this.ctx.getWebSockets(`${address}/${deviceId}`)) ws.close(CLOSE_REVOKED, "device removed");
  }

  /**
   * Sends each session the new entries it is a recipient of (a member removed by a commit gets
   * that commit, not what is ordered after it; a Welcome only those it welcomes), and its author's
   * other devices everything it sent, never the device that submitted it (it has the `ack`); then
   * closes the sessions of accounts no longer members. Returns the sessions that say `got`, those
   * of members.
   */
  push(deliveries: readonly { payload: ConvPayload; to: readonly Address[] }[], members: Address[]): { ws: WebSocket; tag: SessionTag }[] {
    const now = Date.now();
    const acking: { ws: WebSocket; tag: SessionTag }[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const tag = this.tag(ws);
      if (tag && !current(tag, now)) {
        expire(ws);
        continue;
      }
      const member = tag !== null && members.includes(tag.address);
      if (tag) {
        for (const { payload: item, to } of deliveries) {
          if (item.from === tag.address ? item.deviceId !== tag.deviceId : to.includes(tag.address)) this.send(ws, { t: "item", item });
        }
        if (tag.acks && member) acking.push({ ws, tag });
      }
      // What closeAllBut does, in the same loop rather than a second one over every socket.
      if (!member) ws.close(4003, "no longer a member");
    }
    return acking;
  }

  closeAllBut(members: Address[]): void {
    for (const ws of this.ctx.getWebSockets()) {
      const tag = this.tag(ws);
      if (!tag || !members.includes(tag.address)) ws.close(4003, "no longer a member");
    }
  }

  /** Reads one client frame: answers pings and relays signaling here, hands submissions back. */
  frame(ws: WebSocket, message: string | ArrayBuffer, now: number): SessionRequest | null {
    const tag = this.tag(ws);
    if (!tag) {
      ws.close(4000, "unknown socket");
      return null;
    }
    if (!current(tag, now)) {
      expire(ws);
      return null;
    }
    if (now - tag.lastSeen >= LAST_SEEN_STEP_MS) this.retag(ws, { ...tag, lastSeen: now });
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      this.reply(ws, { t: "error", error: "bad_request", message: "A frame must be JSON." });
      return null;
    }
    const frame = parseSessionFrame(parsed);
    if (!frame.success) {
      this.reply(ws, { t: "error", error: "bad_request", message: frame.issues[0].message });
      return null;
    }
    const f = frame.output;
    // A `got`, alone or with submissions (§10): from now on the hub waits for this session's word.
    const got = f.t === "got" ? f.seqs : f.t === "submit" || f.t === "submits" ? f.got : undefined;
    if (got && !tag.acks) this.retag(ws, { ...tag, lastSeen: now, acks: true });
    if (f.t === "got") return { kind: "got", tag, seqs: f.seqs };
    if (f.t === "ping") this.reply(ws, { t: "pong" });
    else if (f.t === "rtc") for (const peer of this.ctx.getWebSockets(f.to)) this.reply(peer, { t: "rtc", from: `${tag.address}/${tag.deviceId}`, data: f.data });
    else if (f.t === "renew") return { kind: "renew", tag, ticket: f.ticket };
    else if (f.t === "submit") return { kind: "submit", tag, submits: [f.submit], batched: false, ...(got && { got }) };
    else return { kind: "submit", tag, submits: f.submits, batched: true, ...(got && { got }) };
    return null;
  }

  /** A session's tag (see #tags); null for a socket that has none. */
  tag(ws: WebSocket): SessionTag | null {
    const known = this.#tags.get(ws);
    if (known) return known;
    const tag = ws.deserializeAttachment() as SessionTag | null;
    if (tag) this.#tags.set(ws, tag);
    return tag;
  }

  /** Stores a session's new tag with its socket, where it outlives hibernation. */
  retag(ws: WebSocket, tag: SessionTag): void {
    ws.serializeAttachment(tag);
    this.#tags.set(ws, tag);
  }

  /** Answers a session, unless its ticket expired meanwhile: then it is closed instead. */
  reply(ws: WebSocket, frame: SessionServerFrame): void {
    const tag = this.tag(ws);
    if (tag && !current(tag, Date.now())) return expire(ws);
    this.send(ws, frame);
  }

  private send(ws: WebSocket, frame: SessionServerFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // A socket that is closing throws; what a session carries also goes to the members' mailboxes.
    }
  }

  closed(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 ? 1000 : code, "closing");
    } catch {
      // The other side closed first: nothing is left to close.
    }
  }

  /**
   * Closes sessions idle longer than sessionIdleSeconds, and those whose ticket expired (a session
   * that only pings never wakes the hub otherwise); returns when to look again, if any remain.
   */
  closeIdle(now: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const tag = this.tag(ws);
      const lastSeen = Math.max(tag?.lastSeen ?? 0, this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0);
      if (!tag || now - lastSeen >= SESSION_IDLE_MS + LAST_SEEN_STEP_MS) {
        ws.close(4004, "idle");
        continue;
      }
      if (!current(tag, now)) {
        expire(ws);
        continue;
      }
      const due = Math.min(lastSeen + SESSION_IDLE_MS + LAST_SEEN_STEP_MS, tag.exp);
      next = next === null ? due : Math.min(next, due);
    }
    return next;
  }
}
