import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { FileStore } from "../../cli/file-store.js";
import { befriend, connect, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// Groups hosted on im.alice.test; Carol is on im.bob.test, so her commits reach the hub through
// her own server, which answers before the hub has ordered them. Her app is closed (no mailbox
// connection) while Alice changes the group: Carol's device, not having read Alice's commit, makes
// its own from the epoch before it, and the hub refuses it later as stale (a bounce). Who Carol
// added or removed must still be added or removed, and every screen must show what the hub ordered.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
let carolDir: string;
let dave: EmsgClient;
let erin: EmsgClient;
const LONG = 30_000;

beforeAll(async () => {
  pair = await startPair(19480, 20480);
  alice = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
  ({ client: carol, dir: carolDir } = await newClient(pair));
  dave = (await newClient(pair)).client;
  erin = (await newClient(pair)).client;
});

afterAll(async () => {
  for (const c of [alice, bob, carol, dave, erin]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

const short = (a: string) => a.split("#")[0]!;

/** What a person sees of a group: "who: text", and notices as "who type whom". */
async function lines(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await client.history(conversation, { limit: 500 })).map((m: MessageRecord) =>
    m.notice ? `${short(m.notice.by)} ${m.notice.type}${m.notice.who ? ` ${m.notice.who.map(short).join(",")}` : ""}` : `${short(m.from)}: ${m.text}`,
  );
}

/** The roster changes a person sees, in order. */
async function changes(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await lines(client, conversation)).filter((l) => / (added|removed) /.test(l));
}

async function members(client: EmsgClient, conversation: string): Promise<string | undefined> {
  const listed = (await client.conversations()).find((c) => c.conversation === conversation)?.members;
  return listed?.map(short).sort().join(",");
}

/** Every one of `clients` shows `expected` (short names, sorted) as the group's members. */
async function rosterIs(conversation: string, clients: EmsgClient[], expected: string): Promise<void> {
  for (const c of clients) await until(`${c.address} to show ${expected}`, async () => (await members(c, conversation)) === expected, LONG);
}

/** Each of `readers` shows `text` from `from` once and readable, and says nothing could not be read. */
async function reads(conversation: string, from: EmsgClient, readers: EmsgClient[], text: string): Promise<void> {
  await from.sendText(conversation, text);
  for (const c of readers) {
    await until(`${c.address} to read "${text}"`, async () => (await lines(c, conversation)).includes(`${short(from.address)}: ${text}`), LONG);
    const seen = await lines(c, conversation);
    expect(seen.filter((l) => l === `${short(from.address)}: ${text}`)).toHaveLength(1);
    expect(seen.filter((l) => l.includes(" unreadable"))).toEqual([]);
  }
}

/** A new group of Alice, Bob and Carol, everyone in. */
async function picnic(): Promise<string> {
  const { conversation } = await alice.createGroup("Picnic", [bob.address, carol.address]);
  await rosterIs(conversation, [bob, carol], "alice,bob,carol");
  return conversation;
}

/** Carol's app is closed while Alice makes `change`; Carol does `mine` on the device that has not read it, opens the app, and hears every answer. */
async function whileCarolAway(change: () => Promise<void>, mine: () => Promise<void>): Promise<void> {
  carol.disconnect();
  await change();
  await mine();
  await connect(carol);
  const store = new FileStore(carolDir);
  await until("Carol's commits to be answered, and what she owes made", async () => (await store.list("commit/")).length + (await store.list("rosterjob/")).length === 0, LONG);
  await carol.idle();
}

describe("a member's roster change through a remote hub, when another member's commit comes first", () => {
  beforeAll(async () => {
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.bob.test");
    await carol.register("carol#im.bob.test");
    await dave.register("dave#im.alice.test");
    await erin.register("erin#im.bob.test");
    await befriend(alice, bob);
    await befriend(alice, carol);
    await befriend(alice, dave);
    await befriend(carol, dave);
    await befriend(carol, erin);
    for (const c of [alice, bob, carol, dave, erin]) await connect(c);
  }, 120_000);

  it("a removal is made again from the new state: Carol removes Bob as Alice's add of Dave comes first", async () => {
    const group = await picnic();
    await whileCarolAway(() => alice.addToGroup(group, [dave.address]), () => carol.removeFromGroup(group, [bob.address]));
    await rosterIs(group, [alice, carol, dave], "alice,carol,dave");
    await until("Bob to be told he is out", async () => (await lines(bob, group)).includes("carol removed bob"), LONG);
    await reads(group, alice, [carol, dave], "Bob is off the list");
    expect(await lines(bob, group)).not.toContain("alice: Bob is off the list");
    for (const c of [alice, carol]) expect(await changes(c, group)).toEqual(["alice added dave", "carol removed bob"]);
  }, 120_000);

  it("an add is made again from the new state: Carol adds Erin as Alice's removal of Bob comes first", async () => {
    const group = await picnic();
    await whileCarolAway(() => alice.removeFromGroup(group, [bob.address]), () => carol.addToGroup(group, [erin.address]));
    await rosterIs(group, [alice, carol, erin], "alice,carol,erin");
    await reads(group, alice, [carol, erin], "welcome Erin");
    await until("Erin to learn the group's name", async () => (await erin.conversations()).find((s) => s.conversation === group)?.title === "Picnic", LONG);
    for (const c of [alice, carol]) expect(await changes(c, group)).toEqual(["alice removed bob", "carol added erin"]);
  }, 120_000);

  it("an add already made by the winner is not made again, nor shown as Carol's", async () => {
    const group = await picnic();
    await whileCarolAway(() => alice.addToGroup(group, [dave.address]), () => carol.addToGroup(group, [dave.address]));
    await rosterIs(group, [alice, carol, dave], "alice,bob,carol,dave");
    await reads(group, carol, [alice, bob, dave], "all here");
    for (const c of [alice, carol]) expect(await changes(c, group)).toEqual(["alice added dave"]);
  }, 120_000);

  it("a removal already made by the winner is not made again, nor shown as Carol's", async () => {
    const group = await picnic();
    await whileCarolAway(() => alice.removeFromGroup(group, [bob.address]), () => carol.removeFromGroup(group, [bob.address]));
    await rosterIs(group, [alice, carol], "alice,carol");
    await reads(group, carol, [alice], "just us two");
    for (const c of [alice, carol]) expect(await changes(c, group)).toEqual(["alice removed bob"]);
  }, 120_000);
});
