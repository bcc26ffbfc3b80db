// Issue 14's last item: a member's commit that others cannot process (here, one whose ciphertext
// nobody can open, with a header the hub reads as a commit at its epoch) moved the hub's epoch on
// with nothing behind it, and every later message of the others was stale_epoch for good. Members
// now veto it and the hub withdraws it (PROTOCOL §8, Vetoes); a veto of a genuine commit takes
// everyone back together. Alice's server is the hub; Bob and Carol are on im.bob.test.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asDomain } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationRecord, ConversationSummary } from "../../shared/client/conversation-record.js";
import { signerOf } from "../../shared/client/account.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { randomId16 } from "../../shared/ids.js";
import { refreshKeys } from "../../shared/mls/group.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import { parseConversationRef } from "../../shared/wire/conversation.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

const LONG = 60_000;
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
let dave: EmsgClient;
let trip: ConversationSummary;
const dirs = new Map<EmsgClient, string>();

beforeAll(async () => {
  pair = await startPair(19100, 20100);
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

/** A device's own signed line to its server, for what its client would never send. */
function rawApi(client: EmsgClient): ServerApi {
  const domain = asDomain(client.address.split("#")[1]);
  const api = new ServerApi(nodeTransport, { now: () => Date.now() }, domain === "im.alice.test" ? pair.alice : pair.bob, domain);
  api.setSigner(signerOf(client.account!));
  return api;
}

function hubPath(): string {
  const { hub, id } = parseConversationRef(trip.conversation);
  return `/conversations/${encodeURIComponent(hub)}/${encodeURIComponent(id)}`;
}

/** The hub's epoch and last position, as a member asks it. */
async function hub(): Promise<{ epoch: number; lastSeq: number; members: string[] }> {
  return (await rawApi(alice).call("GET", hubPath())) as { epoch: number; lastSeq: number; members: string[] };
}

/** The hub's state once nothing has moved it for a second: the members' clients are done sending (receipts too). */
async function quietHub(): Promise<{ epoch: number; lastSeq: number; members: string[] }> {
  let last = await hub();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await hub();
    if (now.lastSeq === last.lastSeq) return now;
    last = now;
  }
}

function record(client: EmsgClient): Promise<ConversationRecord | undefined> {
  return new FileStore(dirs.get(client)!).get<ConversationRecord>(`conv/${trip.conversation}`);
}

async function texts(client: EmsgClient): Promise<string[]> {
  return (await client.history(trip.conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

function sees(client: EmsgClient, what: string): Promise<true> {
  return until(`${client.address} to see "${what}"`, async () => (await texts(client)).includes(what) || undefined, LONG);
}

describe("vetoes over two domains", () => {
  it("three members on two domains, in Alice's group", async () => {
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

  it("a commit nobody can open, from Carol's device, is vetoed and withdrawn: Alice and Bob talk both ways afterwards", async () => {
    const before = await quietHub();
    const kept = (await record(carol))!;
    expect(kept.epoch).toBe(before.epoch);
    // Carol's device sends a commit at the hub's epoch whose AEAD tag is broken: the hub reads a
    // commit header, no member can open it.
    const made = await refreshKeys(await decodeGroupState(kept.group));
    const bytes = fromB64u(made.commit);
    bytes[bytes.length - 1]! ^= 0xff;
    await rawApi(carol).call("POST", `${hubPath()}/messages`, { id: randomId16(), epoch: before.epoch, kind: "commit", mls: toB64u(bytes) });

    // Alice and Bob cannot process it and veto it; the hub goes back to its epoch.
    await until("the hub to order the commit and withdraw it", async () => {
      const now = await hub();
      return now.lastSeq >= before.lastSeq + 2 && now.epoch === before.epoch;
    }, LONG);

    await alice.sendText(trip.conversation, "still here?");
    await sees(bob, "alice: still here?");
    await sees(carol, "alice: still here?");
    await bob.sendText(trip.conversation, "yes, still here");
    await sees(alice, "bob: yes, still here");
    await sees(carol, "bob: yes, still here");
    for (const c of [alice, bob, carol]) expect((await record(c))!.epoch).toBe(before.epoch);
  }, 180_000);

  it("Carol's veto of Alice's genuine add of Dave takes everyone back together: no fork, and everyone talks afterwards", async () => {
    const before = await quietHub();
    await alice.addToGroup(trip.conversation, [dave.address]);
    await until("Dave to join", async () => (await dave.conversations()).find((c) => c.conversation === trip.conversation && !c.left), LONG);
    await alice.sendText(trip.conversation, "welcome dave");
    await sees(dave, "alice: welcome dave");
    await sees(bob, "alice: welcome dave");
    await sees(carol, "alice: welcome dave");
    const added = await quietHub();
    expect(added.epoch).toBe(before.epoch + 1);
    // Carol read it all; she vetoes the add anyway. Nothing else was ordered between the quiet
    // hub and the add, so the add is the entry right after it.
    await rawApi(carol).call("POST", `${hubPath()}/veto`, { id: randomId16(), epoch: before.epoch, hubSeq: before.lastSeq + 1 });
    await until("the hub to withdraw the add", async () => (await hub()).epoch === before.epoch, LONG);
    expect((await hub()).members.sort()).toEqual([alice.address, bob.address, carol.address].sort());

    await until("Dave to be out again", async () => (await dave.conversations()).find((c) => c.conversation === trip.conversation)?.left, LONG);
    for (const c of [alice, bob, carol]) {
      await until(`${c.address} to go back`, async () => (await record(c))?.epoch === before.epoch, LONG);
      expect((await record(c))!.members.sort()).toEqual([alice.address, bob.address, carol.address].sort());
    }
    await alice.sendText(trip.conversation, "after the veto");
    await sees(bob, "alice: after the veto");
    await sees(carol, "alice: after the veto");
    await bob.sendText(trip.conversation, "bob after the veto");
    await sees(alice, "bob: bob after the veto");
    await sees(carol, "bob: bob after the veto");
    await carol.sendText(trip.conversation, "carol after the veto");
    await sees(alice, "carol: carol after the veto");
    await sees(bob, "carol: carol after the veto");
    // Everyone read "welcome dave" once, at the withdrawn epoch or again after it.
    for (const c of [alice, bob, carol]) expect((await texts(c)).filter((t) => t === "alice: welcome dave")).toHaveLength(1);
  }, 240_000);
});
