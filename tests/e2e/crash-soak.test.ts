import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { runSoak } from "../../bench/soak.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// Issue 15: servers killed with SIGKILL mid-stream lose nothing, repeat nothing and keep the order.
// One pair for the file; the conversation is Alice's, so its hub is on Alice's server.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
/** Texts from Alice in the order Bob's device read them (its "message" events). */
const arrived: string[] = [];
/** Conversation notices and unreadable reports Bob's device showed. */
const unreadable: MessageRecord[] = [];

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  pair = await startPair(18837, 19837);
  alice = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
  await alice.register(ALICE);
  await bob.register(BOB);
  await befriend(alice, bob);
  bob.on("message", (m) => {
    if (m.direction === "in" && !m.notice) arrived.push(m.text);
    if (m.notice?.type === "unreadable") unreadable.push(m);
  });
  await connect(alice);
  await connect(bob);
  await alice.sendText(BOB, "hello");
  await until("Bob to read Alice's first message", () => arrived.includes("hello"));
}, 180_000);

afterAll(async () => {
  alice?.disconnect();
  bob?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

/** Waits until the hub holds each message (Alice's device shows it sent or better). */
async function allSent(ids: string[], timeoutMs = 60_000): Promise<void> {
  await until("Alice's messages to be sent", async () => {
    const statuses = new Map((await alice.history(BOB, { limit: 100_000 })).map((m) => [m.id, m.status]));
    return ids.every((id) => statuses.get(id) === "sent" || statuses.get(id) === "delivered");
  }, timeoutMs);
}

describe("crash safety", () => {
  it("keeps hub order when an entry queued after the receiver came back would overtake older ones still backing off", async () => {
    bob.disconnect();
    await pair.running.stop("im.bob.test", { hard: true });
    const killed = Date.now();
    // More than the 10 skipped generations a device keeps: read after the last, the first two would be lost.
    const early = Array.from({ length: 12 }, (_, i) => `while down ${i + 1}`);
    const sent = [];
    for (const text of early) sent.push(await alice.sendText(BOB, text));
    await allSent(sent.map((m) => m.id));
    // Alice's Outbox retries at about 0, 1, 3, 7, 15 and 31 s; Bob's server is back in between.
    await sleep(Math.max(0, killed + 16_000 - Date.now()));
    await pair.running.restart("im.bob.test");
    expect(Date.now() - killed).toBeLessThan(30_000);
    const late = await alice.sendText(BOB, "after the restart");
    await allSent([late.id]);
    await connect(bob);
    const expected = ["hello", ...early, "after the restart"];
    // On a timeout the comparison below shows what did arrive.
    await until("Bob to read the last message", () => arrived.includes("after the restart"), 90_000).catch(() => undefined);
    // Anything still on its way would have come with it or before it.
    await sleep(2000);
    expect(arrived).toEqual(expected);
    expect(unreadable).toEqual([]);
  }, 180_000);

  it("streams 300 numbered messages through 3 kills of the receiver's server and 1 of the sender's, whose hub is fanning out: each arrives once, in order", async () => {
    const result = await runSoak({
      running: pair.running,
      sender: { client: alice, address: ALICE, domain: "im.alice.test" },
      receiver: { client: bob, address: BOB, domain: "im.bob.test" },
      messages: 300,
      receiverKills: 3,
      senderKills: 1,
      paceMs: 60,
      settleMs: 90_000,
    });
    // The kills are drawn at random: a failure names where they fell.
    expect({ ...result, durationMs: 0 }).toEqual({
      messages: 300, lost: 0, duplicated: 0, outOfOrder: 0, unreadable: 0, notSent: 0, kills: result.kills, durationMs: 0,
    });
    expect(result.kills.map((k) => k.domain).sort()).toEqual(["im.alice.test", "im.bob.test", "im.bob.test", "im.bob.test"]);
  }, 300_000);
});
