// Issue 18 review (got, PROTOCOL §10): a hub holds an account's mailbox copy of an entry for up to
// 1 s while the device it pushed the entry to may still say `got`. What it holds is in memory only.
// Here the hub's server (im.alice.test) is killed (SIGKILL) while it holds Bob's copy: Bob's only
// device (im.bob.test), which says got as a rule, was pushed the entry but never stored it. Once the
// hub's server is back, the entry must still reach Bob's mailbox, and Bob, started again from his
// files, must see every message once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { HOLD_MS } from "../../worker/stored-copies.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, reopen, startPair, until } from "./harness.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";

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

let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let restarted: EmsgClient | undefined;

beforeAll(async () => {
  pair = await startPair(19740, 20740);
}, 120_000);

afterAll(async () => {
  for (const c of [alice, bob, restarted]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("a hub killed while it holds a copy for a got", () => {
  it("still brings the entry to the mailbox of the device that never stored it", async () => {
    const shown = new Map<string, number>();
    const watch = (client: EmsgClient) =>
      client.on("message", (m: MessageRecord) => {
        if (m.direction === "in") shown.set(m.text, (shown.get(m.text) ?? 0) + 1);
      });
    alice = (await newClient(pair)).client;
    const bobDir = (await newClient(pair)).dir;
    const bobStore = new StallingStore(bobDir);
    bob = new EmsgClient({ store: bobStore, transport: nodeTransport, resolve: pair.running.resolve });
    watch(bob);
    await alice.register(ALICE);
    await bob.register(BOB);
    await befriend(alice, bob);
    await connect(alice);
    await connect(bob);
    await alice.sendText(BOB, "hello by mail");
    await until("Bob to get the first message", () => shown.get("hello by mail") === 1);
    const conversation = (await bob.conversations())[0]!.conversation;
    expect(await bob.openSession(ALICE)).toBe("session");
    expect(await alice.openSession(conversation)).toBe("session");
    // Bob's answered message makes his device the account's only one to the hub; his stored
    // "warm" is said got, so from now on the hub holds his copies for his word.
    await bob.sendText(ALICE, "bob answers");
    await alice.sendText(conversation, "warm");
    await until("Bob to get warm", () => shown.get("warm") === 1);

    bobStore.stalled = true;
    const sentAt = Date.now();
    const held = await alice.sendText(conversation, "held");
    await until("the hub to order held", async () => (await alice.history(conversation, { limit: 50 })).find((m) => m.id === held.id)?.hubSeq !== undefined, 10_000);
    // Within the hold: Bob's device was pushed it, stores nothing and says nothing.
    // stop() sends SIGKILL as it is called, then waits for the process to be gone: the kill's time is
    // taken before it, not after that wait (which says nothing of the hold and grows on a loaded machine).
    const killedAt = Date.now();
    await pair.running.stop("im.alice.test", { hard: true });
    // Killed before the hold could end (a slower run tests nothing and says so).
    expect(killedAt - sentAt).toBeLessThan(HOLD_MS);
    alice.disconnect();
    bob.disconnect();
    await pair.running.restart("im.alice.test");

    restarted = reopen(pair, bobDir);
    watch(restarted);
    shown.clear();
    expect(await restarted.open()).toBe(true);
    await connect(restarted);
    // The hub's fan-out resumes by its alarm (at most 30 s after the entry) from its durable cursor.
    await until("Bob, started again, to get held", async () => {
      await restarted!.sync();
      return shown.get("held") === 1;
    }, 90_000);
    const seen = (await restarted.history(ALICE, { limit: 50 })).map((m) => m.text);
    expect(seen).toEqual(["hello by mail", "bob answers", "warm", "held"]);
  }, 240_000);
});
