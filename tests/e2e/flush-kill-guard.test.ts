// A's guard of issue 18's pipelined flush (C) and the hub's fan-out position written late (H):
// Bob writes a rush of texts over his session to Alice's hub, so his queue goes a window of
// submissions at a time; Alice's server, the hub, is killed (SIGKILL) as the first answers come
// back, with the rest of a window in flight. What the hub ordered before it died was acknowledged
// or not; what it never took goes by Bob's own server, which delivers it once the hub is back.
// Alice must then see every text once, in the order Bob wrote them, and Bob none failed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { befriend, connect, countShown, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";

let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
const shown = new Map<string, number>();

beforeAll(async () => {
  pair = await startPair(19380, 19390);
  alice = (await newClient(pair)).client;
  // Bob's clock never shows one time twice: the queue is in the order he writes, even within a millisecond.
  let last = 0;
  const clock = { now: () => (last = Math.max(Date.now(), last + 1)) };
  bob = new EmsgClient({ store: new FileStore((await newClient(pair)).dir), transport: nodeTransport, resolve: pair.running.resolve, clock });
  countShown(alice, shown);
}, 120_000);

afterAll(async () => {
  await bob?.closeSession();
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("a hub killed while a queue goes to it a window at a time", () => {
  it("still gets every text to the other side once, in the order written", async () => {
    await alice.register(ALICE);
    await bob.register(BOB);
    await befriend(alice, bob);
    await connect(alice);
    await connect(bob);
    await alice.sendText(BOB, "hello by mail");
    await until("Bob to get the first message", async () => (await bob.conversations()).length === 1);
    const conversation = (await bob.conversations())[0]!.conversation;
    expect(await bob.openSession(ALICE)).toBe("session");

    expect(bob.pathOf(conversation)).toBe("session");
    const rush = Array.from({ length: 150 }, (_, i) => `rush ${i + 1}`);
    // Killed as soon as the hub's first answers reach Bob: the rest of that window, and the next, are in flight.
    let answered = 0;
    let killing: Promise<void> | undefined;
    bob.on("status", (m: MessageRecord) => {
      if (m.status !== "sent" || m.hubSeq === undefined || !m.text.startsWith("rush ")) return;
      if (++answered === 3) killing = pair.running.stop("im.alice.test", { hard: true });
    });
    // Written one after the other, faster than each is answered: the queue's flushes find many waiting.
    const sent: MessageRecord[] = [];
    for (const text of rush) sent.push(await bob.sendText(ALICE, text));
    await until("the hub's first answers", () => killing !== undefined, 60_000);
    await killing;
    await bob.idle();
    // Killed before it answered everything (a slower run tests nothing and says so).
    expect(answered).toBeLessThan(rush.length);

    await pair.running.restart("im.alice.test");
    await connect(alice);
    await until("Bob's server to hand Alice the rest", async () => {
      await alice.sync();
      return rush.every((t) => shown.get(t) !== undefined);
    }, 120_000);
    await alice.sync();
    expect(rush.filter((t) => shown.get(t) !== 1)).toEqual([]);
    const seen = (await alice.history(conversation, { limit: 500 })).map((m) => m.text).filter((t) => t.startsWith("rush "));
    expect(seen).toEqual(rush);
    const statuses = await Promise.all(sent.map(async (m) => (await bob.history(ALICE, { limit: 500 })).find((r) => r.id === m.id)?.status));
    expect(statuses.filter((s) => s === "failed" || s === "sending")).toEqual([]);
  }, 300_000);
});
