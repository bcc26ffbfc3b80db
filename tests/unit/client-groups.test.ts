import { describe, expect, it, vi } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary, MessageRecord } from "../../shared/client/index.js";
import type { ConversationRecord } from "../../shared/client/conversation-record.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers } from "../../shared/mls/group.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import { GroupWorld, syncAll, threeFriends } from "./group-world.js";

/** What a person's screen shows of a conversation: notices as sentences, texts as "who: text". */
async function lines(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await client.history(conversation, { limit: 500 })).map(line);
}

function line(m: MessageRecord): string {
  const n = m.notice;
  if (!n) return `${m.from.split("#")[0]}: ${m.text}`;
  const who = (n.who ?? []).map((a) => a.split("#")[0]).join(", ");
  const by = n.by.split("#")[0];
  if (n.type === "renamed") return `${by} renamed the group to ${n.title}`;
  if (n.type === "created") return `${by} created`;
  return `${by} ${n.type}${who ? ` ${who}` : ""}`;
}

async function summaryOf(client: EmsgClient, conversation: string): Promise<ConversationSummary | undefined> {
  return (await client.conversations()).find((c) => c.conversation === conversation);
}

// History is ordered by time in milliseconds: a text written in the same millisecond as a change
// could be shown either side of it, so the tests let the clock move on between the two.
const later = () => new Promise((r) => setTimeout(r, 3));

/** Alice's group "Trip" with Bob and Carol, who have joined it; the clock has moved on since it was made. */
async function joinedTrip() {
  const people = await threeFriends();
  const trip = await people.alice.createGroup("Trip", [people.bob.address, people.carol.address]);
  await later();
  await people.alice.flush();
  await syncAll(people.bob, people.carol);
  return { ...people, trip };
}

// Each person makes 30 post-quantum KeyPackages on arrival: on a busy machine that takes seconds.
describe("groups in the client core", { timeout: 30_000 }, () => {
  it("a new group shows its name and everyone's messages to every member, who need not be friends", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const joined: ConversationSummary[] = [];
    bob.on("conversation", (c) => void joined.push(c));

    const trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await later();
    expect(trip).toMatchObject({ kind: "group", title: "Trip", members: [alice.address, bob.address, carol.address] });
    expect(trip.peer).toBeUndefined();
    await alice.flush();
    await syncAll(bob, carol);
    expect(joined.some((c) => c.kind === "group")).toBe(true);
    expect(joined.at(-1)).toMatchObject({ conversation: trip.conversation, kind: "group", title: "Trip" });
    expect(await summaryOf(carol, trip.conversation)).toMatchObject({ kind: "group", title: "Trip" });

    await bob.sendText(trip.conversation, "hi all");
    await bob.flush();
    await syncAll(alice, carol);
    // Bob and Carol are not friends, yet each reads the other.
    await carol.sendText(trip.conversation, "hello bob");
    await carol.flush();
    await syncAll(alice, bob);
    expect(await lines(alice, trip.conversation)).toEqual(["alice created", "bob: hi all", "carol: hello bob"]);
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "bob: hi all", "carol: hello bob"]);
    expect(await lines(carol, trip.conversation)).toEqual(["alice created", "bob: hi all", "carol: hello bob"]);
    const created = async (c: EmsgClient) => (await c.history(trip.conversation)).find((m) => m.notice?.type === "created")!.notice;
    expect(await created(alice)).toEqual({ type: "created", by: alice.address, who: [bob.address, carol.address], title: "Trip" });
    expect(await created(carol)).toEqual({ type: "created", by: alice.address, who: [bob.address, carol.address] });
    // The hub saw ciphertext only.
    expect(JSON.stringify(world.log)).not.toContain("hello bob");
    // A 1:1 with Bob is still a conversation of its own.
    expect(await alice.history(bob.address)).toEqual([]);
  });

  it("refuses a group with someone who is not a friend, and one with fewer than two others", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const mallory = await world.person("mallory#im.bob.test");
    await expect(alice.createGroup("Trip", [bob.address, mallory.address])).rejects.toMatchObject({ code: "forbidden" });
    await expect(alice.createGroup("Trip", [bob.address])).rejects.toMatchObject({ code: "bad_request" });
    await expect(alice.createGroup("  ", [bob.address, carol.address])).rejects.toMatchObject({ code: "bad_request" });
    expect(await alice.conversations()).toEqual([]);
  });

  it("an added friend reads what comes after, not before; adding a non-friend is refused", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const dave = await world.person("dave#im.alice.test");
    const trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await later();
    await alice.sendText(trip.conversation, "before dave");
    await alice.flush();
    await syncAll(bob, carol);

    // Bob is in the group but not Dave's friend: he may not add him.
    await expect(bob.addToGroup(trip.conversation, [dave.address])).rejects.toMatchObject({ code: "forbidden" });
    await world.befriend(alice, dave);
    await alice.addToGroup(trip.conversation, [dave.address]);
    await later();
    await alice.sendText(trip.conversation, "welcome dave");
    await alice.flush();
    await syncAll(bob, carol, dave);

    expect(await summaryOf(dave, trip.conversation)).toMatchObject({ kind: "group", title: "Trip" });
    expect((await summaryOf(bob, trip.conversation))!.members).toContain(dave.address);
    expect(await lines(dave, trip.conversation)).toEqual(["alice added dave", "alice: welcome dave"]);
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "alice: before dave", "alice added dave", "alice: welcome dave"]);
    expect(await lines(alice, trip.conversation)).toContain("alice added dave");
  });

  it("a removed member gets nothing after, and everyone sees who removed whom", async () => {
    const { alice, bob, carol, trip } = await joinedTrip();

    await alice.removeFromGroup(trip.conversation, [carol.address]);
    await later();
    await alice.sendText(trip.conversation, "carol is gone");
    await alice.flush();
    await syncAll(bob, carol);

    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "alice removed carol", "alice: carol is gone"]);
    expect(await lines(carol, trip.conversation)).toEqual(["alice created", "alice removed carol"]);
    expect(await summaryOf(carol, trip.conversation)).toMatchObject({ left: true });
    expect((await summaryOf(bob, trip.conversation))!.members).toEqual([alice.address, bob.address]);
    await expect(carol.sendText(trip.conversation, "hello?")).rejects.toMatchObject({ code: "forbidden" });
    await expect(alice.removeFromGroup(trip.conversation, [alice.address])).rejects.toMatchObject({ code: "bad_request" });
  });

  it("a text written before a removal but ordered by the hub after it is shown after the removal, on every screen", async () => {
    const { world, alice, bob, carol, trip } = await joinedTrip();

    // Bob writes while his server cannot be reached: his text is encrypted at the epoch Carol is in.
    world.unreachable.add(bob.address);
    await bob.sendText(trip.conversation, "the plan");
    await later();
    await alice.removeFromGroup(trip.conversation, [carol.address]);
    await alice.flush();
    await later();
    // Back online, the hub refuses it as stale; his device reads the removal and sends it again.
    world.unreachable.delete(bob.address);
    await bob.flush();
    await syncAll(alice, bob, carol);

    const after = ["alice created", "alice removed carol", "bob: the plan"];
    expect(await lines(alice, trip.conversation)).toEqual(after);
    expect(await lines(bob, trip.conversation)).toEqual(after);
    expect(await lines(carol, trip.conversation)).toEqual(["alice created", "alice removed carol"]);
  });

  it("a member whose clock is behind cannot put what he writes after a removal above it", async () => {
    const { world, alice, bob, carol, trip } = await joinedTrip();
    world.clockSkew.set(bob.address, -10 * 60_000);

    await alice.removeFromGroup(trip.conversation, [carol.address]);
    await alice.flush();
    await syncAll(bob);
    for (const text of ["one", "two", "three"]) await bob.sendText(trip.conversation, text);
    await bob.flush();
    await syncAll(alice, carol);

    const after = ["alice created", "alice removed carol", "bob: one", "bob: two", "bob: three"];
    expect(await lines(alice, trip.conversation)).toEqual(after);
    expect(await lines(bob, trip.conversation)).toEqual(after);
    expect(await lines(carol, trip.conversation)).toEqual(["alice created", "alice removed carol"]);
  });

  it("a member who leaves is removed by another member's device and reads nothing after", async () => {
    const { world, alice, bob, carol, trip } = await joinedTrip();

    await bob.leaveGroup(trip.conversation);
    expect(await summaryOf(bob, trip.conversation)).toMatchObject({ left: true });
    await expect(bob.sendText(trip.conversation, "one more")).rejects.toMatchObject({ code: "forbidden" });
    await bob.flush();
    await syncAll(alice, carol);
    expect(world.hubs.get(trip.conversation)!.members).toEqual([alice.address, carol.address]);

    await carol.sendText(trip.conversation, "bye bob");
    await carol.flush();
    await syncAll(alice, bob);
    expect(await lines(alice, trip.conversation)).toEqual(["alice created", "bob left", "carol: bye bob"]);
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "bob left"]);
    expect((await summaryOf(carol, trip.conversation))!.members).toEqual([alice.address, carol.address]);
  });

  it("a leaver still reads what the hub ordered before the leave, and nothing after", async () => {
    const { alice, bob, carol, trip } = await joinedTrip();

    await carol.sendText(trip.conversation, "just before");
    await carol.flush();
    // Bob leaves before his device has fetched Carol's message.
    await later();
    await bob.leaveGroup(trip.conversation);
    await bob.flush();
    await later();
    await carol.sendText(trip.conversation, "just after");
    await carol.flush();
    await syncAll(bob, alice, carol);
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "carol: just before", "bob left"]);
    expect(await lines(alice, trip.conversation)).toEqual(["alice created", "carol: just before", "bob left", "carol: just after"]);
  });

  it("a rename is seen by everyone as a notice and as the group's new name", async () => {
    const { alice, bob, carol, trip } = await joinedTrip();

    await carol.renameGroup(trip.conversation, "Trip to Lisbon");
    await carol.flush();
    await syncAll(alice, bob);
    for (const who of [alice, bob, carol]) {
      expect(await summaryOf(who, trip.conversation)).toMatchObject({ title: "Trip to Lisbon" });
      expect(await lines(who, trip.conversation)).toEqual(["alice created", "carol renamed the group to Trip to Lisbon"]);
    }
    await expect(alice.renameGroup(trip.conversation, "x".repeat(101))).rejects.toMatchObject({ code: "bad_request" });
  });

  it("a member added back learns the name set while away without it being put on who added them", async () => {
    const { alice, bob, carol, trip } = await joinedTrip();
    await alice.removeFromGroup(trip.conversation, [carol.address]);
    await alice.flush();
    await syncAll(bob, carol);
    await later();
    await bob.renameGroup(trip.conversation, "Trip to Lisbon");
    await bob.flush();
    await syncAll(alice);
    await later();
    await alice.addToGroup(trip.conversation, [carol.address]);
    await alice.flush();
    await syncAll(carol);
    expect(await summaryOf(carol, trip.conversation)).toMatchObject({ title: "Trip to Lisbon" });
    // Alice only repeated the name for her: no "alice renamed the group".
    expect((await lines(carol, trip.conversation)).filter((l) => l.includes("renamed"))).toEqual([]);
    // A rename after that is a rename again.
    await later();
    await bob.renameGroup(trip.conversation, "Lisbon, June");
    await bob.flush();
    await syncAll(carol);
    expect((await lines(carol, trip.conversation)).filter((l) => l.includes("renamed"))).toEqual(["bob renamed the group to Lisbon, June"]);
  });

  it("a rename claiming a time to come does not keep the name from ever changing again", async () => {
    const { alice, bob, carol, trip } = await joinedTrip();
    // Carol's device says it renamed the group a century from now.
    const clock = vi.spyOn(Date, "now").mockReturnValue(Date.now() + 36_500 * 86_400_000);
    await carol.renameGroup(trip.conversation, "Carol's forever");
    clock.mockRestore();
    await carol.flush();
    await syncAll(alice, bob);
    await later();
    await alice.renameGroup(trip.conversation, "Trip to Lisbon");
    await alice.flush();
    await syncAll(bob, carol);
    expect(await summaryOf(bob, trip.conversation)).toMatchObject({ title: "Trip to Lisbon" });
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "carol renamed the group to Carol's forever", "alice renamed the group to Trip to Lisbon"]);
  });

  it("a member whose device another key certified than the one pinned for its address is vetoed by whoever pinned it: the add is undone for everyone", async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    const dave = await world.person("dave#im.alice.test");
    const carol = await world.person("carol#im.bob.test");
    await world.befriend(bob, carol);
    // im.bob.test swaps Carol's keys for its own: Alice, who had not met Carol, pins the impostor's.
    const impostor = await world.person("carol#im.bob.test");
    await world.befriend(alice, bob);
    await world.befriend(alice, dave);
    await world.befriend(alice, impostor);
    const trip = await alice.createGroup("Trip", [bob.address, dave.address]);
    await later();
    await alice.flush();
    await syncAll(bob, dave);
    expect(await summaryOf(bob, trip.conversation)).toMatchObject({ title: "Trip" });

    await alice.addToGroup(trip.conversation, [impostor.address]);
    await later();
    await alice.sendText(trip.conversation, "say hi to carol");
    await alice.flush();
    await syncAll(dave, impostor, bob);
    // Dave pinned nothing for Carol and read on; Bob, who pinned the real Carol, vetoed the add (PROTOCOL §8,
    // Vetoes): it is undone for everyone, and what Alice wrote after it comes again at the epoch before.
    await syncAll(alice, dave, impostor, bob);
    expect(await lines(dave, trip.conversation)).toEqual(["alice created", "alice added carol", "alice: say hi to carol", "bob undone"]);
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "alice unreadable", "alice: say hi to carol", "bob undone"]);
    for (const who of [bob, dave]) expect((await summaryOf(who, trip.conversation))!.members).not.toContain(impostor.address);
    expect((await summaryOf(bob, trip.conversation))!.unsafe).toBeUndefined();
    expect((await impostor.conversations()).find((c) => c.conversation === trip.conversation)).toMatchObject({ left: true });
  });

  it("reads a conversation kept before groups existed as a 1:1", async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    await world.storeOf(alice).put("conv/im.alice.test/AAECAwQFBgcICQoLDA0ODw", {
      conversation: "im.alice.test/AAECAwQFBgcICQoLDA0ODw", members: [alice.address, "bob#im.bob.test"], peer: "bob#im.bob.test",
      group: "", epoch: 1, lastHubSeq: 1, created: 1, unread: 0,
    });
    expect(await alice.conversations()).toEqual([expect.objectContaining({ kind: "direct", peer: "bob#im.bob.test" })]);
  });

  it("works across each person's devices: the creator's other device joins, and leaving on one device leaves on all", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const alicePhone = await world.anotherDevice(alice);
    const bobPhone = await world.anotherDevice(bob);
    const trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await later();
    await alice.flush();
    await syncAll(alicePhone, bob, bobPhone, carol);
    expect(await summaryOf(alicePhone, trip.conversation)).toMatchObject({ kind: "group", title: "Trip" });
    expect(await lines(alicePhone, trip.conversation)).toEqual(["alice created"]);

    await alicePhone.sendText(trip.conversation, "from my phone");
    await alicePhone.flush();
    await syncAll(alice, bob, bobPhone, carol);
    expect((await alice.history(trip.conversation)).at(-1)).toMatchObject({ text: "from my phone", direction: "out" });

    await bobPhone.leaveGroup(trip.conversation);
    await bobPhone.flush();
    await syncAll(bob, alice, carol);
    expect(await summaryOf(bob, trip.conversation)).toMatchObject({ left: true });
    await expect(bob.sendText(trip.conversation, "me too")).rejects.toMatchObject({ code: "forbidden" });
    expect(world.hubs.get(trip.conversation)!.members).toEqual([alice.address, carol.address]);

    await later();
    await carol.sendText(trip.conversation, "just us");
    await carol.flush();
    await syncAll(alice, alicePhone, bob, bobPhone);
    for (const device of [alice, alicePhone]) expect(await lines(device, trip.conversation)).toEqual(["alice created", "alice: from my phone", "bob left", "carol: just us"]);
    for (const device of [bob, bobPhone]) expect(await lines(device, trip.conversation)).toEqual(["alice created", "alice: from my phone", "bob left"]);
  });

  it("refuses a commit that slips in a device of someone not on the roster", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const eve = await world.person("eve#im.alice.test");
    const trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await alice.flush();
    await syncAll(bob, carol);
    const before = (await summaryOf(bob, trip.conversation))!;

    // A tampered client of Alice's adds Eve's device and names nobody in the roster.
    const record = (await world.storeOf(alice).get<ConversationRecord>(`conv/${trip.conversation}`))!;
    const eveKeyPackage = world.accounts.get(eve.address)!.devices[0]!.keyPackages.shift()!;
    const made = await addMembers(await decodeGroupState(record.group), [eveKeyPackage]);
    world.submit(trip.conversation, alice.address, alice.account!.deviceId, { id: randomId16(), epoch: record.epoch, kind: "commit", mls: made.commit, welcome: made.welcome });
    await syncAll(bob, carol);
    // Both veto it (PROTOCOL §8, Vetoes): the hub withdraws it, and the group goes on without Eve.
    expect(world.hubs.get(trip.conversation)!).toMatchObject({ epoch: before.epoch, members: [alice.address, bob.address, carol.address] });
    for (const who of [bob, carol]) {
      expect((await summaryOf(who, trip.conversation))!.epoch).toBe(before.epoch);
      expect((await lines(who, trip.conversation)).filter((l) => !l.endsWith(" undone"))).toEqual(["alice created", "alice unreadable"]);
      expect((await summaryOf(who, trip.conversation))!.unsafe).toBeUndefined();
    }
  });

  it("a device linked later is added to the group by the account's other device and learns its name", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const trip = await alice.createGroup("Trip", [bob.address, carol.address]);
    await later();
    await alice.flush();
    await syncAll(carol);
    await carol.sendText(trip.conversation, "before the tablet");
    await carol.flush();
    await syncAll(alice, bob);

    const tablet = await world.anotherDevice(alice);
    // What a device_added item naming a link of this device leaves behind (PROTOCOL §6).
    await world.storeOf(alice).put(`devjob/${tablet.account!.deviceId}`, { kind: "add", deviceId: tablet.account!.deviceId });
    await alice.sync();
    await syncAll(tablet, bob, carol);
    expect(await summaryOf(tablet, trip.conversation)).toMatchObject({ kind: "group", title: "Trip", members: [alice.address, bob.address, carol.address] });
    expect(await lines(tablet, trip.conversation)).toEqual([]);
    // The name sent again is no rename for those who knew it.
    expect(await lines(bob, trip.conversation)).toEqual(["alice created", "carol: before the tablet"]);
  });
});
