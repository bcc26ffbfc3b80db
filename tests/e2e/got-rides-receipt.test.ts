// Issue 18 (round trip): a device on a session tells the hub what it stored on the next submission
// frame it sends (PROTOCOL §10), not in a frame of its own. A client that stores a message pushed
// over its session answers with a delivery receipt: its `got` rides on that receipt's frame, so the
// hub has one event to handle for both. Across two domains, with real servers and clients: Bob's
// device (im.bob.test) says got for each of Alice's messages on his receipt's frame, Alice sees
// each delivered, and each side shows each message once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import type { SocketLike, Transport } from "../../shared/client/transport.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, clientDir, connect, countShown, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";

let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let conversation: string;
/** Every frame Bob's device sent over its session sockets, as sent. */
const bobSent: Record<string, unknown>[] = [];
const shown = { alice: new Map<string, number>(), bob: new Map<string, number>() };

/** nodeTransport, keeping what goes out over session sockets. */
const recording: Transport = {
  fetch: (url, request) => nodeTransport.fetch(url, request),
  openSocket(url: string): SocketLike {
    const socket = nodeTransport.openSocket(url);
    if (!url.includes("/session?")) return socket;
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      bobSent.push(JSON.parse(data) as Record<string, unknown>);
      send(data);
    };
    return socket;
  },
};

beforeAll(async () => {
  pair = await startPair(19840, 20840);
  alice = (await newClient(pair)).client;
  const bobDir = await clientDir();
  bob = new EmsgClient({ store: new FileStore(bobDir), transport: recording, resolve: pair.running.resolve });
  countShown(alice, shown.alice);
  countShown(bob, shown.bob);
  await alice.register(ALICE);
  await bob.register(BOB);
  await befriend(alice, bob);
  await connect(alice);
  await connect(bob);
  await bob.sendText(ALICE, "hello by mail");
  await until("Alice to get the first message", () => shown.alice.get("hello by mail") === 1);
  conversation = (await alice.conversations())[0]!.conversation;
  expect(await bob.openSession(ALICE)).toBe("session");
  expect(await alice.openSession(conversation)).toBe("session");
}, 120_000);

afterAll(async () => {
  await alice?.closeSession(conversation);
  await bob?.closeSession(conversation);
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("a got said with the next submission, across two domains", () => {
  it("rides on the delivery receipt of each message Bob stored, which Alice sees delivered, each shown once", async () => {
    const texts = ["first over the session", "second", "third"];
    for (const text of texts) {
      await alice.sendText(conversation, text);
      await until(`Bob to show ${text}`, () => shown.bob.get(text) === 1);
      await until(`Alice to see ${text} delivered`, async () => (await alice.history(conversation, { limit: 50 })).find((m) => m.text === text)?.status === "delivered");
    }
    const sent = (await alice.history(conversation, { limit: 50 })).filter((m) => texts.includes(m.text));
    const seqs = sent.map((m) => m.hubSeq!);
    expect(seqs.every((seq) => typeof seq === "number")).toBe(true);
    // Each of those positions went to the hub with a submission (Bob's receipt), none in a got frame of its own.
    const riding = bobSent.filter((f) => (f.t === "submit" || f.t === "submits") && Array.isArray(f.got)).flatMap((f) => f.got as number[]);
    const alone = bobSent.filter((f) => f.t === "got").flatMap((f) => f.seqs as number[]);
    expect(riding).toEqual(expect.arrayContaining(seqs));
    expect(alone.filter((seq) => seqs.includes(seq))).toEqual([]);
    await alice.sync();
    await bob.sync();
    expect([...shown.alice.values(), ...shown.bob.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);
});
