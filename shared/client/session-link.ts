import { toB64u } from "../base64url.js";
import { jcs } from "../canonical.js";
import { EmsgError } from "../errors.js";
import {
  type ConvPayload,
  MAX_SESSION_GOT,
  MAX_SESSION_SUBMITS,
  SESSION_BATCH_CHARS,
  parseConversationRef,
  type RtcData,
  SessionTicketResponseSchema,
  type SessionClientFrame,
  type Submit,
  type SubmitAccepted,
} from "../wire/index.js";
import { parseSessionServerFrame } from "../wire/server-frame.js";
import type { CoreContext } from "./context.js";
import type { ServerApi } from "./server-api.js";
import type { SocketLike } from "./transport.js";

export interface SessionHandlers {
  onItem(item: ConvPayload): void;
  onRtc(from: string, data: RtcData): void;
  /** The socket closed, whoever closed it; called once. */
  onClose(): void;
}

/** The longest a session ticket lives (PROTOCOL §10); one that says more is renewed as if it did not. */
export const SESSION_TICKET_MAX_MS = 5 * 60_000;

/**
 * When to renew a ticket that expires at `exp`, received at `now`: half way through its life, so
 * that a platform ticking every minute renews it in time. The lifetime is read on this device's
 * clock and capped, so a clock behind the server's cannot put the renewal past the expiry.
 */
export function renewalDue(now: number, exp: number): number {
  return now + Math.max(0, Math.min(exp - now, SESSION_TICKET_MAX_MS)) / 2;
}

interface Waiting {
  resolve(accepted: SubmitAccepted | undefined): void;
  reject(error: EmsgError): void;
  since: number;
}

/** The session socket's URL at the hub (PROTOCOL §10): the ticket is b64u of its JCS text. */
/** The hub's session URL under `api`, the hub's API base as the member's own server reaches it. */
function sessionUrl(api: string, conversation: string, ticket: unknown): string {
  const { hub, id } = parseConversationRef(conversation);
  const base = api.replace(/^http/, "ws");
  const encoded = toB64u(new TextEncoder().encode(jcs(ticket)));
  return `${base}/conversations/${encodeURIComponent(hub)}/${encodeURIComponent(id)}/session?ticket=${encoded}`;
}

function waitOpen(socket: SocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = (error) => reject(new EmsgError("unavailable", `The session could not be opened: ${String(error)}`));
    socket.onclose = (code) => reject(new EmsgError("unavailable", `The hub closed the session (${code}).`));
  });
}

/**
 * One device's session socket to a conversation's hub (path 2): submissions answered by `ack`,
 * the hub's entries as they are accepted, and WebRTC signaling. A submission still unanswered
 * when the socket closes resolves `undefined`: the caller sends it again by the mailbox path,
 * where the hub recognizes its id, so nothing is lost and nothing is ordered twice.
 */
export class SessionLink {
  readonly conversation: string;
  readonly #socket: SocketLike;
  readonly #handlers: SessionHandlers;
  readonly #waiting = new Map<string, Waiting>();
  /** Submissions of this turn not sent yet, as JSON: they leave together (see #flush). */
  #unsent: string[] = [];
  /** Hub positions of this turn's stored entries not told yet: they leave with the turn's submissions, or as one `got` (see #flush). */
  #got: number[] = [];
  /** Whether this turn's #flush is queued. */
  #flushing = false;
  /** Holds on lone `got` frames (see holdGot): while any is held, what is stored waits for a submission frame. */
  #gotHolds = 0;
  #closed = false;
  /** When to send the hub a fresh ticket: the session ends when its latest one expires (§10). */
  #renewAt: number;
  #renewing = false;
  /** When something last went through: a submission, an entry, a direct message. */
  lastActive: number;

  private constructor(conversation: string, socket: SocketLike, handlers: SessionHandlers, now: number, exp: number) {
    this.conversation = conversation;
    this.#socket = socket;
    this.#handlers = handlers;
    this.lastActive = now;
    this.#renewAt = renewalDue(now, exp);
    socket.onmessage = (data) => this.#onFrame(data);
    socket.onerror = () => undefined;
    socket.onclose = () => this.#ended();
  }

  /** Asks our own server for a ticket, then opens the socket at the hub; resolves once it is open. */
  static async open(ctx: CoreContext, conversation: string, handlers: SessionHandlers): Promise<SessionLink> {
    const { ticket, api } = await ctx.api.call("POST", "/sessions/ticket", { conversation }, SessionTicketResponseSchema);
    const socket = ctx.api.openSocket(sessionUrl(api, conversation, ticket));
    try {
      await waitOpen(socket);
    } catch (error) {
      socket.close();
      throw error;
    }
    return new SessionLink(conversation, socket, handlers, ctx.clock.now(), ticket.body.exp);
  }

  /** Whether the session's ticket is due for renewal and none is under way. */
  renewalDue(now: number): boolean {
    return !this.#closed && !this.#renewing && now >= this.#renewAt;
  }

  /**
   * Asks our own server for a fresh ticket and hands it to the hub, which keeps the session open
   * until it expires. A device removed from its account gets none, and its session ends with its ticket.
   */
  async renew(ctx: CoreContext): Promise<void> {
    this.#renewing = true;
    try {
      const { ticket } = await ctx.api.call("POST", "/sessions/ticket", { conversation: this.conversation }, SessionTicketResponseSchema);
      if (this.#closed) return;
      this.#send({ t: "renew", ticket });
      this.#renewAt = renewalDue(ctx.clock.now(), ticket.body.exp);
    } catch (error) {
      // Tried again at the next tick; the hub closes the session if its ticket runs out first.
      console.warn(`emsg: the session ticket for ${this.conversation} was not renewed: ${(error as Error).message}`);
    } finally {
      this.#renewing = false;
    }
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  /** Submits to the hub; `undefined` when the session ended before the hub answered. */
  submit(submit: Submit, now: number): Promise<SubmitAccepted | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    this.lastActive = now;
    return new Promise((resolve, reject) => {
      this.#waiting.set(submit.id, { resolve, reject, since: now });
      this.#unsent.push(JSON.stringify(submit));
      this.#queueFlush();
    });
  }

  #queueFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  /**
   * Sends the turn's submissions in order, several to a `submits` frame (within MAX_SESSION_SUBMITS
   * and SESSION_BATCH_CHARS): a client sending a burst costs the hub one event, not one each. The
   * turn's `got` rides on its first frame (a device answering what it just stored costs the hub
   * one event, not two), and goes alone when nothing is submitted and nothing holds it (holdGot).
   */
  #flush(): void {
    this.#flushing = false;
    const unsent = this.#unsent;
    let got = this.#got;
    this.#unsent = [];
    this.#got = [];
    for (let start = 0; start < unsent.length && !this.#closed; ) {
      let end = start + 1;
      let chars = unsent[start]!.length;
      while (end < unsent.length && end - start < MAX_SESSION_SUBMITS && chars + unsent[end]!.length < SESSION_BATCH_CHARS) chars += unsent[end++]!.length + 1;
      const batch = unsent.slice(start, end);
      const told = got.length > 0 ? `,"got":${JSON.stringify(got.slice(0, MAX_SESSION_GOT))}` : "";
      got = got.slice(MAX_SESSION_GOT);
      this.#sendText(batch.length === 1 ? `{"t":"submit","submit":${batch[0]}${told}}` : `{"t":"submits","submits":[${batch.join(",")}]${told}}`);
      start = end;
    }
    if (this.#gotHolds > 0) this.#got = got;
    else for (let start = 0; start < got.length && !this.#closed; start += MAX_SESSION_GOT) this.#send({ t: "got", seqs: got.slice(start, start + MAX_SESSION_GOT) });
  }

  /**
   * Keeps what is stored from going in a `got` frame of its own until the returned release is
   * called: it rides on the submissions sent meanwhile (a device's delivery receipt for the entry
   * it just stored), and what none took goes alone on release. For work that ends soon.
   */
  holdGot(): () => void {
    this.#gotHolds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#gotHolds--;
      if (this.#gotHolds === 0 && this.#got.length > 0) this.#queueFlush();
    };
  }

  /**
   * Tells the hub this device has stored the entry it pushed at `hubSeq` (PROTOCOL §10, `got`),
   * with the others of this turn and on its submissions if any (see #flush): the hub may then spare
   * the account its mailbox copy. Called only once the entry is durably applied; whatever is not
   * told arrives by the mailbox as well.
   */
  stored(hubSeq: number): void {
    if (this.#closed) return;
    this.#got.push(hubSeq);
    this.#queueFlush();
  }

  signal(to: string, data: RtcData): void {
    this.#send({ t: "rtc", to, data });
  }

  ping(): void {
    this.#send({ t: "ping" });
  }

  /** When the oldest unanswered submission was sent, if any is waiting. */
  get oldestWaiting(): number | undefined {
    let oldest: number | undefined;
    for (const { since } of this.#waiting.values()) oldest = oldest === undefined ? since : Math.min(oldest, since);
    return oldest;
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.close(1000, "bye");
    this.#ended();
  }

  #send(frame: SessionClientFrame): void {
    this.#sendText(JSON.stringify(frame));
  }

  #sendText(text: string): void {
    try {
      this.#socket.send(text);
    } catch {
      // A socket that cannot take a frame is gone: closing it sends what waits by the mailbox instead.
      this.close();
    }
  }

  #onFrame(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    const result = parseSessionServerFrame(parsed);
    // Dropped, not fatal: what the hub sends over a session also reaches the mailbox.
    if (!result.success) return void console.warn("emsg: a session frame that is not understood was dropped");
    const frame = result.output;
    if (frame.t === "item") {
      this.#handlers.onItem(frame.item);
    } else if (frame.t === "ack") {
      this.#answer(frame.id)?.resolve({ accepted: true, seq: frame.seq });
    } else if (frame.t === "acks") {
      for (const { id, seq } of frame.acks) this.#answer(id)?.resolve({ accepted: true, seq });
    } else if (frame.t === "error") {
      if (frame.id !== undefined) this.#answer(frame.id)?.reject(new EmsgError(frame.error, frame.message));
      else console.warn(`emsg: the hub refused a session frame: ${frame.message}`);
    } else if (frame.t === "rtc") {
      this.#handlers.onRtc(frame.from, frame.data);
    }
  }

  #answer(id: string): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    return waiting;
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiting of this.#waiting.values()) waiting.resolve(undefined);
    this.#waiting.clear();
    this.#handlers.onClose();
  }
}
