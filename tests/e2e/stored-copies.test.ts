// Issue 18 (round trip): a device on a session says `got` for the entries it stored, and the hub
// spares its account (one device) their mailbox copies (PROTOCOL §10). What a device did not say
// it stored must still reach it: here Bob's device (im.bob.test, his only one) stops in the middle
// of storing a burst pushed over its session to Alice's hub, and starts again from what it had stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, connect, countShown, newClient, type Pair, removeClientDirs, reopen, startPair, until } from "./harness.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";

let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let bobDir: string;
/** Bob's files; once `stalled`, no write finishes: the device stopped before it stored anything more. */
class StallingStore extends FileStore {
  stalled = false;
  override put(key: string, value: unknown): Promise<void> {
    return this.stalled ? new Promise<void>(() => undefined) : super.put(key, value);
  }
  override delete(key: string): Promise<void> {
    return this.stalled ? new Promise<void>(() => undefined) : super.delete(key);
  }
}
let bobStore: StallingStore;
let conversation: string;
const shown = { alice: new Map<string, number>(), bob: new Map<string, number>() };

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

beforeAll(async () => {
  pair = await startPair(19620, 20620);
  alice = (await newClient(pair)).client;
  bobDir = (await newClient(pair)).dir;
  bobStore = new StallingStore(bobDir);
  bob = new EmsgClient({ store: bobStore, transport: nodeTransport, resolve: pair.running.resolve });
  countShown(alice, shown.alice);
  countShown(bob, shown.bob);
  await alice.register(ALICE);
  await bob.register(BOB);
  await befriend(alice, bob);
  await connect(alice);
  await connect(bob);
  await alice.sendText(BOB, "hello by mail");
  await until("Bob to get the first message", () => shown.bob.get("hello by mail") === 1);
  conversation = (await bob.conversations())[0]!.conversation;
  expect(await bob.openSession(ALICE)).toBe("session");
  expect(await alice.openSession(conversation)).toBe("session");
}, 120_000);

afterAll(async () => {
  await alice?.closeSession();
  await bob?.closeSession();
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("copies a device said it stored, across two domains", () => {
  it("shows each message once both ways while both devices say got over their sessions", async () => {
    for (let i = 1; i <= 3; i++) {
      await bob.sendText(ALICE, `bob ${i}`);
      await until(`Alice to get bob ${i}`, () => shown.alice.get(`bob ${i}`) === 1);
      await alice.sendText(conversation, `alice ${i}`);
      await until(`Bob to get alice ${i}`, () => shown.bob.get(`alice ${i}`) === 1);
    }
    await bob.sync();
    await alice.sync();
    expect([...shown.alice.values(), ...shown.bob.values()].every((n) => n === 1)).toBe(true);
    const seen = await texts(bob, ALICE);
    expect(seen).toEqual(["hello by mail", "bob 1", "alice 1", "bob 2", "alice 2", "bob 3", "alice 3"]);
    expect(await texts(alice, BOB)).toEqual(seen);
  });

  it("still brings every message by the mailbox when the device stopped before storing them and closed its session", async () => {
    const burst = Array.from({ length: 8 }, (_, i) => `burst ${i + 1}`);
    bobStore.stalled = true;
    await Promise.all(burst.map((text) => alice.sendText(conversation, text)));
    // Ordered by the hub, so pushed to Bob's session; his device never got to store (nor say `got` for) any of it.
    await until("Alice's burst to be ordered", async () => {
      const sent = (await alice.history(conversation, { limit: 500 })).filter((m) => burst.includes(m.text));
      return sent.length === burst.length && sent.every((m) => m.hubSeq !== undefined);
    });
    await bob.closeSession(conversation);
    bob.disconnect();
    // Longer than the hub holds a copy for a `got`: whatever it would spare is decided by now.
    await new Promise((r) => setTimeout(r, 1500));
    const restarted = reopen(pair, bobDir);
    countShown(restarted, shown.bob);
    shown.bob.clear();
    expect(await restarted.open()).toBe(true);
    await connect(restarted);
    await until("Bob, started again, to get the whole burst", async () => {
      await restarted.sync();
      return burst.every((t) => shown.bob.get(t) === 1);
    });
    // Sent side by side, so in whatever order the hub took them; each stored once.
    const seen = await texts(restarted, ALICE);
    expect(seen.slice(-burst.length).sort()).toEqual(burst);
    expect(new Set(seen).size).toBe(seen.length);
    restarted.disconnect();
  }, 60_000);
});
