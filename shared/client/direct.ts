import * as v from "valibot";
import { type DirectFrame, DirectFrameSchema, type RtcData } from "../wire/frames.js";
import type { IceCandidate, PeerChannel, PeerConnector } from "./peer-channel.js";

export interface DirectHandlers {
  /** Sends signaling to one device through the session socket (`rtc` frames). */
  signal(to: string, data: RtcData): void;
  onFrame(from: string, frame: DirectFrame): void;
  /** A channel opened or closed. */
  onChange(): void;
}

const SdpSchema = v.pipe(v.string(), v.maxLength(65536));
const CandidateSchema = v.object({
  candidate: v.pipe(v.string(), v.maxLength(1024)),
  sdpMid: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(64)))),
  sdpMLineIndex: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0)))),
});

const utf8 = new TextEncoder();

/** The side that offers (PROTOCOL §10): the device whose `ADDRESS/DEVICEID` has the smaller UTF-8 bytes. */
export function offersTo(me: string, peer: string): boolean {
  const [a, b] = [utf8.encode(me), utf8.encode(peer)];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return a.length < b.length;
}

interface Link {
  channel: PeerChannel;
  open: boolean;
  /** Candidates found before our description went out wait here, so the peer never gets them first. */
  held: IceCandidate[] | null;
}

/**
 * The direct channels (path 3) of one session: one per device of the other members. Roles are
 * fixed, so two devices never offer to each other at once: the offering side offers when its
 * session opens and whenever the other side says `hello`; the other side says `hello` when its
 * session opens and answers offers. A channel that fails just closes: the session carries on.
 */
export class DirectLinks {
  readonly #me: string;
  readonly #connector: PeerConnector;
  readonly #handlers: DirectHandlers;
  readonly #links = new Map<string, Link>();

  constructor(me: string, connector: PeerConnector, handlers: DirectHandlers) {
    this.#me = me;
    this.#connector = connector;
    this.#handlers = handlers;
  }

  get open(): boolean {
    for (const link of this.#links.values()) if (link.open) return true;
    return false;
  }

  /** Called once the session is open, with the other members' devices as `ADDRESS/DEVICEID`. */
  start(peers: string[]): void {
    for (const peer of peers) {
      if (offersTo(this.#me, peer)) void this.#offer(peer);
      else this.#handlers.signal(peer, { type: "hello" });
    }
  }

  onSignal(from: string, data: RtcData): void {
    const offering = offersTo(this.#me, from);
    if (data.type === "hello" && offering) void this.#offer(from);
    else if (data.type === "offer" && !offering && v.is(SdpSchema, data.sdp)) void this.#answer(from, data.sdp);
    else if (data.type === "answer" && offering && v.is(SdpSchema, data.sdp)) void this.#accepted(from, data.sdp);
    else if (data.type === "candidate" && v.is(CandidateSchema, data.candidate)) {
      this.#links.get(from)?.channel.addCandidate(data.candidate).catch((error: unknown) => {
        console.warn(`emsg: a direct-channel candidate from ${from} was refused; the hub still carries the chat: ${(error as Error).message}`);
      });
    }
  }

  /** Sends a frame on every open channel; returns how many took it. */
  send(frame: DirectFrame): number {
    let sent = 0;
    const text = JSON.stringify(frame);
    for (const link of this.#links.values()) {
      if (!link.open) continue;
      try {
        link.channel.send(text);
        sent++;
      } catch {
        // A channel closing under us: the hub's copy still arrives.
      }
    }
    return sent;
  }

  closeAll(): void {
    const had = this.open;
    for (const link of this.#links.values()) link.channel.close();
    this.#links.clear();
    if (had) this.#handlers.onChange();
  }

  async #offer(peer: string): Promise<void> {
    const link = this.#replace(peer);
    try {
      const sdp = await link.channel.offer();
      if (this.#links.get(peer) !== link) return;
      this.#handlers.signal(peer, { type: "offer", sdp });
      this.#release(peer, link);
    } catch (error) {
      this.#fail(peer, link, error);
    }
  }

  async #answer(peer: string, offer: string): Promise<void> {
    const link = this.#replace(peer);
    try {
      const sdp = await link.channel.answer(offer);
      if (this.#links.get(peer) !== link) return;
      this.#handlers.signal(peer, { type: "answer", sdp });
      this.#release(peer, link);
    } catch (error) {
      this.#fail(peer, link, error);
    }
  }

  async #accepted(peer: string, answer: string): Promise<void> {
    const link = this.#links.get(peer);
    if (!link) return;
    try {
      await link.channel.accept(answer);
    } catch (error) {
      this.#fail(peer, link, error);
    }
  }

  /** A fresh channel to `peer`, closing any earlier one (the peer started over). */
  #replace(peer: string): Link {
    const old = this.#links.get(peer);
    const channel = this.#connector.connect();
    const link: Link = { channel, open: false, held: [] };
    this.#links.set(peer, link);
    if (old) {
      old.channel.close();
      if (old.open) this.#handlers.onChange();
    }
    channel.onCandidate = (candidate) => {
      if (link.held) link.held.push(candidate);
      else this.#handlers.signal(peer, { type: "candidate", candidate });
    };
    channel.onOpen = () => {
      if (this.#links.get(peer) !== link) return;
      link.open = true;
      this.#handlers.onChange();
    };
    channel.onMessage = (data) => this.#onMessage(peer, data);
    channel.onClose = () => this.#drop(peer, link);
    return link;
  }

  #release(peer: string, link: Link): void {
    const held = link.held ?? [];
    link.held = null;
    for (const candidate of held) this.#handlers.signal(peer, { type: "candidate", candidate });
  }

  #onMessage(peer: string, data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    const frame = v.safeParse(DirectFrameSchema, parsed);
    // Dropped, not fatal: every message sent directly is also sent through the hub.
    if (frame.success) this.#handlers.onFrame(peer, frame.output);
    else console.warn(`emsg: a direct frame from ${peer} that is not understood was dropped`);
  }

  #fail(peer: string, link: Link, error: unknown): void {
    console.warn(`emsg: no direct channel to ${peer}: ${(error as Error).message ?? String(error)}`);
    link.channel.close();
    this.#drop(peer, link);
  }

  #drop(peer: string, link: Link): void {
    if (this.#links.get(peer) !== link) return;
    this.#links.delete(peer);
    if (link.open) this.#handlers.onChange();
  }
}
