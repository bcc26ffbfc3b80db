import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary, MessageRecord } from "../../shared/client/index.js";
import { runCli } from "./cli-run.js";
import { befriend, connect, filesContaining, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// One pair of real servers; the tests build on each other, as a group's life does. The group is
// hosted on im.alice.test; Bob and Carol are on im.bob.test, Dave on im.alice.test.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
let dave: EmsgClient;
let trip: ConversationSummary;
const dirs = new Map<string, string>();
const secret = `meet at the pier at ${Math.random().toString(36).slice(2)}`;
const LONG = 60_000;

beforeAll(async () => {
  pair = await startPair(8921, 9521);
  const made = async (who: string) => {
    const { client, dir } = await newClient(pair);
    dirs.set(who, dir);
    return client;
  };
  alice = await made("alice");
  bob = await made("bob");
  carol = await made("carol");
  dave = await made("dave");
});

afterAll(async () => {
  for (const c of [alice, bob, carol, dave]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

/** What the person sees of the group: notices as sentences, messages as "who: text". */
async function lines(client: EmsgClient): Promise<string[]> {
  return (await client.history(trip.conversation, { limit: 500 })).map(line);
}

function line(m: MessageRecord): string {
  const short = (a: string) => a.split("#")[0];
  const n = m.notice;
  if (!n) return `${short(m.from)}: ${m.text}`;
  if (n.type === "renamed") return `${short(n.by)} renamed it ${n.title}`;
  if (n.type === "created") return `${short(n.by)} created`;
  return `${short(n.by)} ${n.type}${n.who ? ` ${n.who.map(short).join(", ")}` : ""}`;
}

async function summary(client: EmsgClient): Promise<ConversationSummary | undefined> {
  return (await client.conversations()).find((c) => c.conversation === trip.conversation);
}

function sees(client: EmsgClient, what: string): Promise<true> {
  return until(`${client.address} to see "${what}"`, async () => (await lines(client)).includes(what) || undefined, LONG);
}

describe("a group over two federated domains", () => {
  it("starts with three friends of Alice's on two domains", async () => {
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.bob.test");
    await carol.register("carol#im.bob.test");
    await dave.register("dave#im.alice.test");
    await befriend(alice, bob);
    await befriend(alice, carol);
    await befriend(alice, dave);
    for (const c of [alice, bob, carol, dave]) await connect(c);
  }, 120_000);

  it("Alice makes \"Trip\" with Bob and Carol: everyone sees its name and each other's messages, the servers only ciphertext", async () => {
    trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    expect(trip).toMatchObject({ kind: "group", title: "Trip", members: [alice.address, bob.address, carol.address] });
    for (const c of [bob, carol]) {
      await until(`${c.address} to see the group's name`, async () => (await summary(c))?.title === "Trip", LONG);
      expect(await summary(c)).toMatchObject({ kind: "group", members: [alice.address, bob.address, carol.address] });
    }
    // Bob and Carol are not friends, and still read each other.
    await bob.sendText(trip.conversation, "hi from bob");
    await sees(carol, "bob: hi from bob");
    await carol.sendText(trip.conversation, secret);
    await sees(bob, `carol: ${secret}`);
    await sees(alice, `carol: ${secret}`);
    expect(await lines(alice)).toEqual(["alice created", "bob: hi from bob", `carol: ${secret}`]);
    expect(await lines(carol)).toEqual(["alice created", "bob: hi from bob", `carol: ${secret}`]);

    await new Promise((r) => setTimeout(r, 500));
    expect(await filesContaining(pair.persistRoot, secret)).toEqual([]);
    expect(await filesContaining(pair.persistRoot, "hi from bob")).toEqual([]);
    expect(pair.logs.filter((l) => l.includes(secret))).toEqual([]);
  }, 180_000);

  it("Dave, added later, reads what comes after but not before", async () => {
    await alice.sendText(trip.conversation, "before dave");
    await sees(bob, "alice: before dave");
    await alice.addToGroup(trip.conversation, [dave.address]);
    await alice.sendText(trip.conversation, "welcome dave");
    await sees(dave, "alice: welcome dave");
    await until("Dave to learn the group's name", async () => (await summary(dave))?.title === "Trip", LONG);
    expect(await lines(dave)).toEqual(["alice added dave", "alice: welcome dave"]);
    await sees(bob, "alice added dave");
    await sees(carol, "alice: welcome dave");
    expect((await summary(bob))!.members).toContain(dave.address);
  }, 180_000);

  it("a rename by Bob is seen by everyone", async () => {
    await bob.renameGroup(trip.conversation, "Trip to Lisbon");
    for (const c of [alice, carol, dave]) {
      await sees(c, "bob renamed it Trip to Lisbon");
      await until(`${c.address} to show the new name`, async () => (await summary(c))?.title === "Trip to Lisbon", LONG);
    }
  }, 180_000);

  it("Carol, removed by Alice, gets nothing after", async () => {
    await alice.removeFromGroup(trip.conversation, [carol.address]);
    await sees(carol, "alice removed carol");
    expect(await summary(carol)).toMatchObject({ left: true });
    await alice.sendText(trip.conversation, "after carol");
    await sees(bob, "alice: after carol");
    await sees(dave, "alice: after carol");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await lines(carol)).filter((l) => l.includes("after carol"))).toEqual([]);
    await expect(carol.sendText(trip.conversation, "still here?")).rejects.toMatchObject({ code: "forbidden" });
  }, 180_000);

  it("Bob leaves: another member's device commits his removal, and he reads nothing after", async () => {
    await bob.leaveGroup(trip.conversation);
    expect(await summary(bob)).toMatchObject({ left: true });
    await sees(alice, "bob left");
    await sees(dave, "bob left");
    for (const c of [alice, dave]) {
      await until(`${c.address} to see Bob gone from the roster`, async () => !(await summary(c))!.members.includes(bob.address), LONG);
    }
    await dave.sendText(trip.conversation, "after bob");
    await sees(alice, "dave: after bob");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await lines(bob)).filter((l) => l.includes("after bob"))).toEqual([]);
    expect((await summary(alice))!.members).toEqual([alice.address, dave.address]);
  }, 180_000);
});

/** Runs the command-line client over a person's state directory, as `npm run cli -- --state DIR …` does. */
const cli = (who: string, ...args: string[]) => runCli(dirs.get(who)!, args, { EMSG_RESOLVE: pair.running.resolve });

describe("groups from the command line", () => {
  it("creates, writes to, renames and leaves a group", async () => {
    // The same accounts, now driven by the CLI over their state directories.
    for (const c of [alice, bob, carol, dave]) {
      c.disconnect();
      await c.idle();
    }
    const created = await cli("alice", "group", "create", "Dinner", "bob#im.bob.test", "carol#im.bob.test", "dave#im.alice.test");
    expect(created.err).toBe("");
    const conversation = /\((im\.alice\.test\/[\w-]{22})\)/.exec(created.out)?.[1];
    expect(created.out).toContain(`Created "Dinner" (${conversation}) with bob#im.bob.test, carol#im.bob.test, dave#im.alice.test.`);
    await until("Bob's list to show the group by name", async () => (await cli("bob", "read")).out.includes(`"Dinner" ${conversation}`), LONG);

    expect((await cli("carol", "send", conversation!, "pasta?")).out).toMatch(/me: pasta\? {2}\[sent\]/);
    const read = await until("Dave to read Carol", async () => {
      const run = await cli("dave", "read", conversation!);
      return run.out.includes("carol#im.bob.test: pasta?") && run.out;
    }, LONG);
    expect(read).toContain("* alice#im.alice.test created the group");

    expect((await cli("bob", "group", "rename", conversation!, "Dinner", "Friday")).out).toContain('Renamed to "Dinner Friday".');
    expect((await cli("dave", "group", "leave", conversation!)).code).toBe(0);
    const seen = await until("Alice to see the rename and Dave leave", async () => {
      const run = await cli("alice", "read", conversation!);
      return run.out.includes("dave#im.alice.test left") && run.out;
    }, LONG);
    expect(seen).toContain('* bob#im.bob.test renamed the group to "Dinner Friday"');
    const refused = await cli("dave", "send", conversation!, "one more");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("no longer a member");
    expect((await cli("alice", "group", "add", conversation!, "mallory#im.bob.test")).code).toBe(1);
  }, 240_000);
});
