// Issue 14's way back: a device left behind its group for good (its veto refused, as another
// account committed on top of the commit it could not process) asks to be let back in, and an
// in-step member re-adds that same device (PROTOCOL §8, Rejoining). Alice's server is the hub;
// Bob, Carol and Dave are on im.bob.test, so Bob's veto and ask go through his server as FedItems.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationRecord, ConversationSummary } from "../../shared/client/conversation-record.js";
import { asClient, asGroupState } from "../../shared/mls/group-state.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { FileStore } from "../../cli/file-store.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

const LONG = 90_000;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
let dave: EmsgClient;
let trip: ConversationSummary;
const dirs = new Map<EmsgClient, string>();

beforeAll(async () => {
  pair = await startPair(19400, 20400);
  for (const who of ["alice", "bob", "carol", "dave"]) {
    const { client, dir } = await newClient(pair);
    dirs.set(client, dir);
    if (who === "alice") alice = client;
    if (who === "bob") bob = client;
    if (who === "carol") carol = client;
    if (who === "dave") dave = client;
  }
}, 120_000);

afterAll(async () => {
  for (const c of [alice, bob, carol, dave]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

const store = (client: EmsgClient) => new FileStore(dirs.get(client)!);

function record(client: EmsgClient): Promise<ConversationRecord | undefined> {
  return store(client).get<ConversationRecord>(`conv/${trip.conversation}`);
}

async function texts(client: EmsgClient): Promise<string[]> {
  return (await client.history(trip.conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

function sees(client: EmsgClient, what: string): Promise<true> {
  return until(`${client.address} to see "${what}"`, async () => (await texts(client)).includes(what) || undefined, LONG);
}

/**
 * Bob's device loses the private keys of its path, as if every commit's path secret for it were
 * garbage (what a member can send one device alone): the next commit is one only he cannot process.
 */
async function garbleBobsPathKeys(): Promise<string> {
  const kept = (await record(bob))!;
  const client = asClient(await decodeGroupState(kept.group));
  const privateKeys = Object.fromEntries(Object.entries(client.privatePath.privateKeys).map(([node, key]) => [node, crypto.getRandomValues(new Uint8Array(key.length))]));
  const garbled = asGroupState({ ...client, privatePath: { ...client.privatePath, privateKeys } });
  const group = encodeGroupState(garbled);
  await store(bob).put(`conv/${trip.conversation}`, { ...kept, group });
  return group;
}

describe("a device out of step is let back in, over two domains", () => {
  it("four people on two domains; Alice, Bob and Carol in Alice's group", async () => {
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.bob.test");
    await carol.register("carol#im.bob.test");
    await dave.register("dave#im.bob.test");
    await befriend(alice, bob);
    await befriend(alice, carol);
    await befriend(alice, dave);
    for (const c of [alice, bob, carol, dave]) await connect(c);
    trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await alice.sendText(trip.conversation, "hello");
    await sees(bob, "alice: hello");
    await sees(carol, "alice: hello");
  }, 180_000);

  it("Bob's device cannot process a commit that another account's commit follows, so his veto is refused; he asks back in, Alice re-adds him, and everyone talks both ways", async () => {
    // Bob's device goes quiet first (its receipts sent), so nothing it was doing writes its old state back.
    await until("Bob's queue to drain", async () => (await store(bob).list("out/")).length === 0, LONG);
    bob.disconnect();
    await new Promise((r) => setTimeout(r, 1000));
    const garbled = await garbleBobsPathKeys();
    const epoch = (await record(bob))!.epoch;
    await alice.addToGroup(trip.conversation, [dave.address]);
    await until("Carol to apply the add", async () => (await record(carol))?.members.includes(dave.address), LONG);
    await carol.removeFromGroup(trip.conversation, [dave.address]);
    await until("Alice to apply Carol's removal", async () => (await record(alice))?.epoch === epoch + 2, LONG);
    // And Alice adds Dave again: whichever of these commits Bob's device first fails at (its path
    // keys are gone, so any commit with a path secret for it), another account's commit follows it.
    await alice.addToGroup(trip.conversation, [dave.address]);
    await until("Carol to apply Alice's second add", async () => (await record(carol))?.epoch === epoch + 3, LONG);
    await alice.sendText(trip.conversation, "while bob was away");

    expect((await record(bob))!.group).toBe(garbled);
    // Bob comes back: his veto is refused (another account's commit followed the one he fails at), so he asks back in.
    await connect(bob);
    await until("Bob to be let back in", async () => {
      const now = await record(bob);
      return now !== undefined && !now.unsafe && now.epoch > epoch + 3 ? now : undefined;
    }, LONG);
    expect((await record(bob))!.members.sort()).toEqual([alice.address, bob.address, carol.address, dave.address].sort());
    // He is told, honestly, that he missed something; what was sent while he was out he cannot read.
    // (The line is written just after the state that let him back in, which the wait above reads.)
    await until("Bob to be told he was let back in", async () => (await bob.history(trip.conversation, { limit: 100 })).some((m) => m.notice?.type === "rejoined"), LONG);
    expect(await texts(bob)).not.toContain("alice: while bob was away");

    await bob.sendText(trip.conversation, "I'm back");
    await sees(alice, "bob: I'm back");
    await sees(carol, "bob: I'm back");
    await alice.sendText(trip.conversation, "welcome back, bob");
    await sees(bob, "alice: welcome back, bob");
    await sees(carol, "alice: welcome back, bob");
    await carol.sendText(trip.conversation, "hi bob");
    await sees(bob, "carol: hi bob");
    await sees(alice, "carol: hi bob");
    await sees(dave, "bob: I'm back");
  }, 300_000);
});
