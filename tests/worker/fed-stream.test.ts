import { describe, expect, it } from "vitest";
import { SELF, env, runInDurableObject } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { FEDERATION_COMPONENTS, serverKeyId, signMessage } from "../../shared/http-signature.js";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import { BATCH_NUMBER_BYTES, MAX_BATCH_BYTES_APPLYING, MAX_PEER_BATCH_BYTES_APPLYING, MAX_STREAM_BATCHES_APPLYING, MAX_STREAM_BODY_BYTES, readAnswerFrame, STREAM_PATH, writeBatchNumber, type FedItem, type MailItem } from "../../shared/wire/index.js";
import { streamSocket, type StreamAnswer } from "../../worker/federation-stream.js";
import { API, DOMAIN, PEER, call, errorOf, federationRequest, friendRequest, newDevice, registered, trustedPeer, type Device, type Peer } from "./harness.js";

// Federation streams (PROTOCOL §7): a peer opens a WebSocket with a signed GET and sends inbox
// batches as binary frames; each is answered by number with what `POST /federation/inbox` answers.

function streamRequest(peer: Peer, o: { nonce?: string; signWith?: Uint8Array; emsgTo?: string; upgrade?: boolean } = {}): Request {
  const url = `${API}${STREAM_PATH}`;
  const headers: Record<string, string> = { "emsg-from": peer.domain, "emsg-to": o.emsgTo ?? DOMAIN };
  const sig = signMessage(
    { method: "GET", url, headers },
    {
      keyId: serverKeyId(peer.domain, peer.kid),
      privateKey: o.signWith ?? peer.key.privateKey,
      created: Math.floor(Date.now() / 1000),
      nonce: o.nonce ?? randomId16(),
      components: FEDERATION_COMPONENTS,
    },
  );
  return new Request(url, { headers: { ...headers, ...sig, ...(o.upgrade === false ? {} : { upgrade: "websocket" }) } });
}

/** A stream's socket, with every answer and its close as they come. */
interface Stream {
  ws: WebSocket;
  answers: { n: number; status: number; body: any }[];
  closed: Promise<{ code: number; reason: string }>;
}

async function openStream(peer: Peer): Promise<Stream> {
  const res = await SELF.fetch(streamRequest(peer));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const answers: Stream["answers"] = [];
  ws.addEventListener("message", (e) => {
    const frame = readAnswerFrame(e.data as string);
    if (!frame) throw new Error(`not an answer frame: ${String(e.data)}`);
    answers.push({ n: frame.n, status: frame.status, body: JSON.parse(frame.json) });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  return { ws, answers, closed };
}

/** A stream from `from` straight into a receiver's socket whose batches are read, and held unanswered until the test answers them. */
function heldStream(from: Domain) {
  const read: number[] = [];
  const held = new Map<number, (answer: StreamAnswer) => void>();
  const ws = streamSocket(from, (body) => {
    const { n } = JSON.parse(new TextDecoder().decode(body)) as { n: number };
    read.push(n);
    return new Promise((resolve) => held.set(n, resolve));
  });
  ws.accept();
  const answers: Stream["answers"] = [];
  ws.addEventListener("message", (e) => {
    const frame = readAnswerFrame(e.data as string)!;
    answers.push({ n: frame.n, status: frame.status, body: JSON.parse(frame.json) });
  });
  const stream: Stream = { ws, answers, closed: new Promise(() => {}) };
  return { stream, read, held };
}

/** Answers every batch still held, so their bytes leave the isolate's count. */
function releaseAll(held: Map<number, (answer: StreamAnswer) => void>): void {
  for (const resolve of held.values()) resolve({ status: 200, text: '{"results":[]}' });
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

function frameOf(n: number, body: unknown): Uint8Array {
  const text = new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const frame = new Uint8Array(BATCH_NUMBER_BYTES + text.byteLength);
  frame.set(text, BATCH_NUMBER_BYTES);
  writeBatchNumber(frame, n);
  return frame;
}

async function answerTo(stream: Stream, n: number): Promise<{ status: number; body: any }> {
  for (let i = 0; i < 200; i++) {
    const answer = stream.answers.find((a) => a.n === n);
    if (answer) return answer;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no answer to batch ${n}`);
}

function requestItem(from: Device, to: Address): FedItem {
  const signed = friendRequest(from, to);
  return { id: signed.body.id, kind: "friend_request", signed };
}

function newFrom(item: FedItem): string {
  if (item.kind !== "friend_request") throw new Error("a friend request was meant");
  return item.signed.body.from;
}

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

describe("federation stream", () => {
  it("takes a peer's batches as the inbox would, each answered by its number: items applied once, a sender off the peer's domain refused", async () => {
    const peer = await trustedPeer();
    const bob = await registered("sbob");
    const stream = await openStream(peer);
    const first = requestItem(newDevice("sone", PEER), bob.address);
    const liar = requestItem(newDevice("sliar", "im.carol.test" as Domain), bob.address);
    const second = requestItem(newDevice("stwo", PEER), bob.address);
    stream.ws.send(frameOf(7, { items: [first, liar] }));
    expect(await answerTo(stream, 7)).toEqual({ n: 7, status: 200, body: { results: [{ id: first.id, ok: true }, { id: liar.id, error: "forbidden", message: expect.any(String) }] } });
    stream.ws.send(frameOf(8, { items: [second, first] }));
    expect(await answerTo(stream, 8)).toMatchObject({ status: 200, body: { results: [{ id: second.id, ok: true }, { id: first.id, ok: true }] } });
    const requests = (await mail(bob)).flatMap((m) => (m.kind === "friend_request" ? [m.signed.body.from] : []));
    expect(requests.sort()).toEqual([newFrom(first), newFrom(second)].sort());
    stream.ws.close(1000, "done");
  });

  it("answers a batch it refuses whole with the inbox's status and error, and keeps the stream open", async () => {
    const peer = await trustedPeer();
    const stream = await openStream(peer);
    stream.ws.send(frameOf(1, "{not json"));
    stream.ws.send(frameOf(2, { items: [] }));
    const many = Array.from({ length: DEFAULT_LIMITS.maxBatchItems + 1 }, () => ({ id: randomId16(), kind: "bounce" }));
    stream.ws.send(frameOf(3, { items: many }));
    for (const n of [1, 2, 3]) expect(await answerTo(stream, n)).toMatchObject({ status: 400, body: { error: "bad_request" } });
    const bob = await registered("skeep");
    const item = requestItem(newDevice("skept", PEER), bob.address);
    stream.ws.send(frameOf(4, { items: [item] }));
    expect(await answerTo(stream, 4)).toMatchObject({ status: 200, body: { results: [{ id: item.id, ok: true }] } });
  });

  it("answers 429 to a batch once the peer's bucket is empty, applying nothing of it", async () => {
    const peer = await trustedPeer("im.drained.test" as Domain);
    const stream = await openStream(peer);
    const gate = env.GATE.get(env.GATE.idFromName(`peer:${peer.domain}`));
    // Emptied as of an hour from now, so no refill meanwhile gives it a token.
    await runInDurableObject(gate, (instance) => {
      (instance as unknown as { buckets: Map<string, { tokens: number; at: number }> }).buckets.set(`peer\n${peer.domain}`, { tokens: 0, at: Date.now() + 3_600_000 });
    });
    const bob = await registered("sdrain");
    const item = requestItem(newDevice("sdr", peer.domain), bob.address);
    stream.ws.send(frameOf(1, { items: [item] }));
    expect(await answerTo(stream, 1)).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(await mail(bob)).toEqual([]);
  });

  it("applies at most MAX_STREAM_BATCHES_APPLYING of a stream's batches at once: one beyond them is answered 429 unread, and taken again once one is answered", async () => {
    const { stream, read, held } = heldStream("im.eager.test" as Domain);
    const limit = MAX_STREAM_BATCHES_APPLYING;
    for (let n = 1; n <= limit + 2; n++) stream.ws.send(frameOf(n, { items: [], n }));
    for (const n of [limit + 1, limit + 2]) expect(await answerTo(stream, n)).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(read).toEqual(Array.from({ length: limit }, (_, i) => i + 1));
    held.get(1)!({ status: 200, text: '{"results":[]}' });
    expect(await answerTo(stream, 1)).toEqual({ n: 1, status: 200, body: { results: [] } });
    stream.ws.send(frameOf(limit + 1, { items: [], n: limit + 1 }));
    await until(() => held.has(limit + 1));
    expect(read).toEqual(Array.from({ length: limit + 1 }, (_, i) => i + 1));
    expect(stream.answers.filter((a) => a.n === limit + 1)).toHaveLength(1);
    releaseAll(held);
    stream.ws.close(1000, "done");
  });

  it("applies at most MAX_PEER_BATCH_BYTES_APPLYING of a peer's batch bytes over all its streams, and MAX_BATCH_BYTES_APPLYING of all peers': a frame beyond is answered 429 unread", async () => {
    // Frames as large as a stream takes: a peer's bound is a whole number of them.
    const fullFrame = (n: number) => frameOf(n, { items: [], n, pad: "x".repeat(MAX_STREAM_BODY_BYTES - 40) });
    const perFrame = fullFrame(1).byteLength - BATCH_NUMBER_BYTES;
    expect(perFrame).toBeLessThanOrEqual(MAX_STREAM_BODY_BYTES);
    const perPeer = Math.floor(MAX_PEER_BATCH_BYTES_APPLYING / perFrame);
    const inAll = Math.floor(MAX_BATCH_BYTES_APPLYING / perFrame);
    // Each stream fills to its own bound, so a peer's frames take several streams.
    const fill = async (from: Domain, frames: number) => {
      const streams: ReturnType<typeof heldStream>[] = [];
      for (let sent = 0; sent < frames; sent += MAX_STREAM_BATCHES_APPLYING) {
        const s = heldStream(from);
        const count = Math.min(MAX_STREAM_BATCHES_APPLYING, frames - sent);
        for (let n = 1; n <= count; n++) s.stream.ws.send(fullFrame(n));
        await until(() => s.read.length === count);
        streams.push(s);
      }
      return streams;
    };
    const rogue = await fill("im.rogue1.test" as Domain, perPeer);
    const extra = heldStream("im.rogue1.test" as Domain);
    extra.stream.ws.send(fullFrame(1));
    expect(await answerTo(extra.stream, 1)).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(extra.read).toEqual([]);
    // Another peer still gets its share, until all peers' frames reach the isolate's bound.
    const other = await fill("im.rogue2.test" as Domain, inAll - perPeer);
    const third = heldStream("im.honest.test" as Domain);
    third.stream.ws.send(fullFrame(1));
    expect(await answerTo(third.stream, 1)).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect(third.read).toEqual([]);
    // Once one of the first peer's batches is answered, its bytes are free for any peer's frame.
    rogue[0]!.held.get(1)!({ status: 200, text: '{"results":[]}' });
    expect(await answerTo(rogue[0]!.stream, 1)).toMatchObject({ status: 200 });
    third.stream.ws.send(fullFrame(2));
    await until(() => third.read.length === 1);
    expect(third.read).toEqual([2]);
    for (const s of [...rogue, ...other, extra, third]) {
      releaseAll(s.held);
      s.stream.ws.close(1000, "done");
    }
  });

  it("answers a POSTed batch 429 unread while its peer's batch bytes are at their bound, and takes it once they are answered", async () => {
    const peer = await trustedPeer("im.poster.test" as Domain);
    const bob = await registered("spost");
    const fullFrame = (n: number) => frameOf(n, { items: [], n, pad: "x".repeat(MAX_STREAM_BODY_BYTES - 40) });
    // The peer's share filled by its streams' batches, held unanswered.
    const streams: ReturnType<typeof heldStream>[] = [];
    let held = 0;
    for (;;) {
      const s = heldStream(peer.domain);
      streams.push(s);
      for (let n = 1; n <= MAX_STREAM_BATCHES_APPLYING; n++) s.stream.ws.send(fullFrame(n));
      await until(() => s.stream.answers.length + s.read.length === MAX_STREAM_BATCHES_APPLYING);
      held += s.read.length;
      if (s.stream.answers.length > 0) break;
    }
    expect(held).toBe(Math.floor(MAX_PEER_BATCH_BYTES_APPLYING / (fullFrame(1).byteLength - BATCH_NUMBER_BYTES)));
    const item = requestItem(newDevice("spo", peer.domain), bob.address);
    const refused = await SELF.fetch(federationRequest(peer, "/inbox", { items: [item] }));
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toBe("rate_limited");
    expect(await mail(bob)).toEqual([]);
    for (const s of streams) {
      releaseAll(s.held);
      s.stream.ws.close(1000, "done");
    }
    const taken = await SELF.fetch(federationRequest(peer, "/inbox", { items: [item] }));
    expect(taken.status).toBe(200);
    expect(await taken.json()).toMatchObject({ results: [{ id: item.id, ok: true }] });
  });

  it("closes a stream that sends a text frame or a frame too short for its number", async () => {
    const peer = await trustedPeer();
    const text = await openStream(peer);
    text.ws.send('{"items":[]}');
    expect((await text.closed).code).toBe(1003);
    const short = await openStream(peer);
    short.ws.send(new Uint8Array([0, 1]));
    expect((await short.closed).code).toBe(1003);
  });

  it("opens only for a signed WebSocket request from the peer it names: forged, replayed, misdirected or plain GETs are refused", async () => {
    const peer = await trustedPeer();
    expect((await SELF.fetch(streamRequest(peer, { signWith: generateKeyPair().privateKey }))).status).toBe(401);
    expect((await SELF.fetch(streamRequest(peer, { emsgTo: "im.carol.test" }))).status).toBe(401);
    const nonce = randomId16();
    const once = await SELF.fetch(streamRequest(peer, { nonce }));
    expect(once.status).toBe(101);
    once.webSocket!.accept();
    once.webSocket!.close(1000, "done");
    const replayed = await SELF.fetch(streamRequest(peer, { nonce }));
    expect(replayed.status).toBe(401);
    expect(await errorOf(replayed)).toBe("unauthorized");
    const plain = await SELF.fetch(streamRequest(peer, { upgrade: false }));
    expect(plain.status).toBe(400);
    expect(await errorOf(plain)).toBe("bad_request");
    const unsigned = await SELF.fetch(`${API}${STREAM_PATH}`, { headers: { upgrade: "websocket", "emsg-from": PEER, "emsg-to": DOMAIN } });
    expect(unsigned.status).toBe(401);
  });
});
