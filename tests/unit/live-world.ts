// A small in-memory world for the session and direct-channel state machines: two people with a
// real MLS conversation, a hub that speaks the session protocol (PROTOCOL §10) over fake sockets,
// and paired in-memory data channels standing in for WebRTC, which Node does not have.
import { accountRecord } from "../../shared/client/account.js";
import { type Address, asAddress, asDomain } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import { encodeContent, newText } from "../../shared/content.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { generateKeyPair, keyIdOf } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt } from "../../shared/mls/group.js";
import { epochOf } from "../../shared/mls/group-state.js";
import { makeKeyPackages } from "../../shared/mls/keypackage.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { signObject } from "../../shared/signed.js";
import type { ConvPayload, SessionServerFrame, Submit } from "../../shared/wire/index.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import { loadConversation, saveConversation } from "../../shared/client/conversation-record.js";
import { Emitter } from "../../shared/client/events.js";
import { applyConvItem, type ConvOutcome } from "../../shared/client/incoming-conv.js";
import { LivePaths, type MessagePath } from "../../shared/client/live-paths.js";
import type { IceCandidate, PeerChannel, PeerConnector } from "../../shared/client/peer-channel.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { HttpResponse, SocketLike, Transport } from "../../shared/client/transport.js";
import { saveMessage } from "../../shared/client/messages.js";
import { enqueue } from "../../shared/client/outgoing-queue.js";

// KeyPackages are checked against the real clock, so the world lives in the present.
export const NOW = Date.now();
const tick = () => new Promise((r) => setTimeout(r, 0));

export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await tick();
}

const json = (status: number, body: unknown): HttpResponse => ({ status, text: async () => (body === undefined ? "" : JSON.stringify(body)) });

/** The hub's end of one session socket. */
export class HubSocket implements SocketLike {
  onopen: (() => void) | null = null;
  onmessage: ((data: string) => void) | null = null;
  onclose: ((code: number) => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;
  readonly frames: Record<string, unknown>[] = [];
  closed = false;

  constructor(readonly hub: FakeHub, readonly device: string) {
    setTimeout(() => this.onopen?.(), 0);
  }

  send(data: string): void {
    if (this.closed) throw new Error("closed");
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.frames.push(frame);
    this.hub.received(this, frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A browser reports its own close later, as an event.
    setTimeout(() => this.onclose?.(1000), 0);
  }

  /** The hub sends a frame. */
  push(frame: SessionServerFrame): void {
    if (!this.closed) this.onmessage?.(JSON.stringify(frame));
  }

  /** The hub ends the session (idle, restart, removal). */
  drop(code = 4004): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.(code);
  }
}

/**
 * The hub and both people's servers in one: it serves discovery, tickets and the mailbox-path
 * submit over HTTP, and session sockets that order submissions, echo them to every session and
 * relay `rtc` frames. `answering = false` makes it take submissions without ever answering.
 */
export class FakeHub {
  readonly sockets: HubSocket[] = [];
  readonly posted: Submit[] = [];
  answering = true;
  seq = 100;
  /** Each account's device list, as its home server would answer `/directory/devices`. */
  readonly directory = new Map<string, { address: string; accountKey: string; devices: unknown[] }>();
  readonly #serverKey = generateKeyPair();

  transportFor(): Transport {
    return {
      fetch: async (url, request) => {
        const path = new URL(url).pathname;
        if (path === "/.well-known/emsg") {
          const domain = new URL(url).hostname === "127.0.0.2" ? "im.bob.test" : "im.alice.test";
          return json(200, buildDiscoveryDoc({ domain: asDomain(domain), keys: [{ kid: keyIdOf(this.#serverKey.publicKey), key: this.#serverKey.publicKey }], software: "fake" }));
        }
        const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
        if (path.endsWith("/sessions/ticket")) return json(200, { ticket: this.ticketFor(body.conversation as string, request.headers["x-device"]!), hub: "im.alice.test", api: "http://127.0.0.1:9/emsg/v1" });
        if (path.endsWith("/directory/devices")) {
          const listed = this.directory.get(body.address as string);
          return listed ? json(200, listed) : json(404, { error: "not_found", message: String(body.address) });
        }
        if (path.endsWith("/messages")) {
          this.posted.push(body as unknown as Submit);
          return json(202, { accepted: true });
        }
        return json(404, { error: "not_found", message: path });
      },
      openSocket: (url) => {
        const ticket = JSON.parse(new TextDecoder().decode(fromB64u(new URL(url).searchParams.get("ticket")!))) as { body: { address: string; deviceId: string } };
        const socket = new HubSocket(this, `${ticket.body.address}/${ticket.body.deviceId}`);
        this.sockets.push(socket);
        return socket;
      },
    };
  }

  ticketFor(conversation: string, device: string) {
    const [address, deviceId] = device.split("/");
    const body = { address, deviceId, conversation, hub: "im.alice.test", exp: NOW + 60_000 };
    return signObject(this.#serverKey.privateKey, "session-ticket", body);
  }

  open(): HubSocket[] {
    return this.sockets.filter((s) => !s.closed);
  }

  received(from: HubSocket, frame: Record<string, unknown>): void {
    if (frame.t === "rtc") {
      for (const peer of this.open()) if (peer.device === frame.to) peer.push({ t: "rtc", from: from.device, data: frame.data as never });
    } else if (frame.t === "ping") {
      from.push({ t: "pong" });
    } else if (frame.t === "submit" && this.answering) {
      from.push({ t: "ack", ...this.order(from, frame.submit as Submit) });
    } else if (frame.t === "submits" && this.answering) {
      from.push({ t: "acks", acks: (frame.submits as Submit[]).map((submit) => this.order(from, submit)) });
    }
  }

  /** Orders one submission and sends it to every other session. */
  order(from: HubSocket, submit: Submit): { id: string; seq: number } {
    const [address, deviceId] = from.device.split("/");
    const item = { conversation: CONVERSATION_OF.get(this)!, id: submit.id, hubSeq: ++this.seq, from: address, deviceId, epoch: submit.epoch, type: submit.kind, mls: submit.mls, at: NOW } as ConvPayload;
    for (const socket of this.open()) if (socket !== from) socket.push({ t: "item", item });
    return { id: submit.id, seq: this.seq };
  }
}

const CONVERSATION_OF = new WeakMap<FakeHub, string>();

/** Tags every request with the device, so the fake hub can write its ticket. */
function deviceTransport(inner: Transport, device: string): Transport {
  return {
    fetch: (url, request) => inner.fetch(url, { ...request, headers: { ...request.headers, "x-device": device } }),
    openSocket: (url) => inner.openSocket(url),
  };
}

export interface Someone {
  ctx: CoreContext;
  device: string;
  live: LivePaths;
  paths: MessagePath[];
  shown: string[];
}

function someone(addressText: string, hub: FakeHub, origin: string, clock: { now(): number }, peers?: PeerConnector): Someone {
  const address = asAddress(addressText);
  const accountKeys = generateKeyPair();
  const deviceKeys = generateKeyPair();
  const account = accountRecord(address, accountKeys, deviceKeys, { label: "test", origin: origin, now: NOW });
  const { deviceCert } = account;
  hub.directory.set(address, { address, accountKey: account.accountPublicKey, devices: [deviceCert] });
  const device = `${address}/${account.deviceId}`;
  const transport = deviceTransport(hub.transportFor(), device);
  const ctx: CoreContext = { store: new MemoryStore(), api: new ServerApi(transport, clock, origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
  const paths: MessagePath[] = [];
  const shown: string[] = [];
  ctx.events.on("message", (m) => void shown.push(m.text));
  // Like the client, every change runs one at a time, in order.
  let serial: Promise<unknown> = Promise.resolve();
  const live = new LivePaths({
    context: () => ctx,
    apply: (step: (c: CoreContext) => Promise<ConvOutcome>) => {
      const run = serial.then(() => step(ctx));
      serial = run.catch(() => undefined);
      return run.then(() => undefined);
    },
    changed: (_conversation, path) => void paths.push(path),
    ...(peers ? { peers } : {}),
  });
  ctx.live = live;
  return { ctx, device, live, paths, shown };
}

export interface World {
  hub: FakeHub;
  alice: Someone;
  bob: Someone;
  conversation: string;
  clock: { now(): number; at: number };
  /** An application message from alice as the hub would deliver it, with the ciphertext it carries. */
  fromAlice(text: string, hubSeq: number): Promise<ConvPayload>;
}

/** Alice (the hub's side) and Bob in one 1:1 conversation that both have joined. */
export async function world(peers?: { alice: PeerConnector; bob: PeerConnector }): Promise<World> {
  const hub = new FakeHub();
  const clock = { at: NOW, now: () => clock.at };
  const alice = someone("alice#im.alice.test", hub, "http://127.0.0.1:1", clock, peers?.alice);
  const bob = someone("bob#im.bob.test", hub, "http://127.0.0.2:1", clock, peers?.bob);
  for (const [a, b] of [[alice, bob], [bob, alice]] as const) {
    await a.ctx.store.put(`friend/${b.ctx.account.address}`, { address: b.ctx.account.address, accountKey: b.ctx.account.accountPublicKey, state: "friend", since: NOW });
  }
  const [bundle] = await makeKeyPackages(deviceIdentityOf(bob.ctx.account), 1, NOW);
  await bob.ctx.store.put(`kp/${bundle!.ref}`, bundle);
  const conversation = `im.alice.test/${randomId16()}`;
  CONVERSATION_OF.set(hub, conversation);
  const added = await addMembers(await createGroup(deviceIdentityOf(alice.ctx.account), conversation), [bundle!.keyPackage]);
  const members = [alice.ctx.account.address, bob.ctx.account.address] as Address[];
  await saveConversation(alice.ctx, {
    conversation, members, peer: bob.ctx.account.address,
    group: encodeGroupState(added.state), epoch: epochOf(added.state), lastHubSeq: 1, applied: [1], created: NOW, unread: 0,
  });
  const welcome = { conversation, id: randomId16(), hubSeq: 1, from: alice.ctx.account.address, deviceId: alice.ctx.account.deviceId, epoch: 1, type: "welcome", mls: added.welcome, members, at: NOW } as ConvPayload;
  await applyConvItem(bob.ctx, welcome);
  const fromAlice = async (text: string, hubSeq: number): Promise<ConvPayload> => {
    const record = (await loadConversation(alice.ctx, conversation))!;
    const sent = await encrypt(await decodeGroupState(record.group), encodeContent(newText(text, clock.now())));
    await saveConversation(alice.ctx, { ...record, group: encodeGroupState(sent.state) }, false);
    return { conversation, id: randomId16(), hubSeq, from: alice.ctx.account.address, deviceId: alice.ctx.account.deviceId, epoch: 1, type: "application", mls: sent.mls, at: NOW } as ConvPayload;
  };
  return { hub, alice, bob, conversation, clock, fromAlice };
}

/**
 * Data channels in memory, paired through their SDP: an answer names the offer it answers, and
 * `accept` connects both ends. Candidates go through signaling like real ones and are recorded.
 */
export class MemoryPeers {
  readonly #bySdp = new Map<string, MemoryChannel>();
  readonly channels: MemoryChannel[] = [];
  #n = 0;

  connector(): PeerConnector {
    return { connect: () => {
      const channel = new MemoryChannel(this);
      this.channels.push(channel);
      return channel;
    } };
  }

  name(channel: MemoryChannel, kind: string): string {
    const sdp = `${kind}-${++this.#n}`;
    this.#bySdp.set(sdp, channel);
    return sdp;
  }

  find(sdp: string): MemoryChannel | undefined {
    return this.#bySdp.get(sdp);
  }
}

export class MemoryChannel implements PeerChannel {
  onCandidate: ((candidate: IceCandidate) => void) | null = null;
  onOpen: (() => void) | null = null;
  onMessage: ((data: string) => void) | null = null;
  onClose: (() => void) | null = null;
  peer: MemoryChannel | undefined;
  readonly candidates: IceCandidate[] = [];
  closed = false;

  constructor(readonly peers: MemoryPeers) {}

  async offer(): Promise<string> {
    const sdp = this.peers.name(this, "offer");
    setTimeout(() => this.onCandidate?.({ candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 }), 0);
    return sdp;
  }

  async answer(offer: string): Promise<string> {
    this.peer = this.peers.find(offer);
    if (!this.peer) throw new Error("unknown offer");
    return this.peers.name(this, "answer");
  }

  async accept(answer: string): Promise<void> {
    const other = this.peers.find(answer);
    if (!other || other.peer !== this) throw new Error("unknown answer");
    this.peer = other;
    for (const end of [this, other]) setTimeout(() => !end.closed && end.onOpen?.(), 0);
  }

  async addCandidate(candidate: IceCandidate): Promise<void> {
    this.candidates.push(candidate);
  }

  send(data: string): void {
    if (this.closed) throw new Error("closed");
    const peer = this.peer!;
    setTimeout(() => !peer.closed && peer.onMessage?.(data), 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    if (peer && !peer.closed) {
      peer.closed = true;
      setTimeout(() => peer.onClose?.(), 0);
    }
  }
}

/** Bob writes `count` texts to Alice ("message 1", …), each saved as sending and queued, the i-th sent at `sentAt(i)`. */
export async function queueTexts(w: World, count: number, sentAt = (i: number) => NOW + i): Promise<{ texts: string[]; ids: string[] }> {
  const texts = Array.from({ length: count }, (_, i) => `message ${i + 1}`);
  const ids: string[] = [];
  for (const [i, text] of texts.entries()) {
    const content = newText(text, sentAt(i));
    await saveMessage(w.bob.ctx, { id: content.id, conversation: w.conversation, from: w.bob.ctx.account.address, direction: "out", text, at: content.sentAt, status: "sending" });
    await enqueue(w.bob.ctx, { content, conversation: w.conversation });
    ids.push(content.id);
  }
  return { texts, ids };
}

/** A submission a test's hub ordered: its position, id, who sent it, and what. */
export type LoggedEntry = { seq: number; id: string; from: "alice" | "bob"; submit: Submit };

/** What a member's device gets of a logged entry, as the hub's mailbox copy carries it. */
export function payloadOf(w: World, entry: LoggedEntry): ConvPayload {
  const who = entry.from === "alice" ? w.alice : w.bob;
  return {
    conversation: w.conversation, id: entry.id, hubSeq: entry.seq, from: who.ctx.account.address, deviceId: who.ctx.account.deviceId,
    epoch: entry.submit.epoch, type: entry.submit.kind, mls: entry.submit.mls, at: NOW,
  } as ConvPayload;
}
