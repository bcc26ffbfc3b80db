import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { refreshKeys } from "../../shared/mls/group.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import type { ConvPayload } from "../../shared/wire/conversation.js";
import { broken, record, syncAll, tripGroup } from "./group-world.js";

// A commit some members cannot process would leave them at an epoch the hub left for good. They
// veto it, the hub withdraws it, and every device goes back to where it was before it (PROTOCOL §8,
// Vetoes): the group goes on, nobody forked off.

/** The texts a person's screen shows, "who: text", notices left out. */
async function texts(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await client.history(conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

describe("vetoes in the client core", { timeout: 60_000 }, () => {
  it("a member's commit nobody can open is vetoed by the others, and they go on talking at the epoch before it", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    // Carol's device (or a broken client of hers) submits a commit at the group's epoch that no member can open.
    const carolRecord = (await record(world, carol, conversation))!;
    const made = await refreshKeys(await decodeGroupState(carolRecord.group));
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: broken(made.commit) });
    expect(world.hubs.get(conversation)!.epoch).toBe(epoch + 1);

    await syncAll(alice, bob);
    expect(world.vetoes.map((v) => v.from).sort()).toEqual([alice.address, bob.address].sort());
    expect(world.hubs.get(conversation)!.epoch).toBe(epoch);

    await alice.sendText(conversation, "still here");
    await alice.flush();
    await syncAll(bob, carol);
    await bob.sendText(conversation, "me too");
    await bob.flush();
    await syncAll(alice, carol);
    for (const person of [alice, bob, carol]) expect(await texts(person, conversation)).toEqual(["alice: still here", "bob: me too"]);
  });

  it("an account such a commit claimed to add, whose Welcome it could not read, is told nothing of its withdrawal, and joins for real later", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.bob.test");
    await world.befriend(alice, dave);
    const epoch = world.hubs.get(conversation)!.epoch;
    const made = await refreshKeys(await decodeGroupState((await record(world, carol, conversation))!.group));
    const welcome = toB64u(crypto.getRandomValues(new Uint8Array(300)));
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: broken(made.commit), welcome, roster: { add: [dave.address], remove: [] } });
    await syncAll(alice, bob, dave);
    expect(world.hubs.get(conversation)!).toMatchObject({ epoch, members: [alice.address, bob.address, carol.address] });
    await alice.addToGroup(conversation, [dave.address]);
    await alice.flush();
    await syncAll(dave);
    await alice.sendText(conversation, "hi dave");
    await alice.flush();
    await syncAll(dave);
    expect((await dave.history(conversation, { limit: 100 })).map((m) => m.notice?.type ?? m.text)).toEqual(["added", "hi dave"]);
  });

  it("two such commits in a row are withdrawn together by a veto of the first, which is all the others can read", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    const state = await decodeGroupState((await record(world, carol, conversation))!.group);
    const first = await refreshKeys(state);
    const second = await refreshKeys(first.state);
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: broken(first.commit) });
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch: epoch + 1, kind: "commit", mls: second.commit });
    await syncAll(alice, bob);
    expect(world.hubs.get(conversation)!.epoch).toBe(epoch);
    await bob.sendText(conversation, "what was that?");
    await bob.flush();
    await syncAll(alice, carol);
    for (const person of [alice, bob, carol]) expect(await texts(person, conversation)).toEqual(["bob: what was that?"]);
  });

  it("a commit one member cannot process is withdrawn for everyone: the committer, the others and the device it added go back, and what was sent after it reaches the member", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.bob.test");
    await world.befriend(alice, dave);
    const plan = await alice.sendText(conversation, "plan");
    await alice.flush();
    await syncAll(bob, carol);
    const epoch = world.hubs.get(conversation)!.epoch;
    // Alice's add of Dave reaches Bob broken, as a commit whose path secret for him is garbage would.
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    await alice.addToGroup(conversation, [dave.address]);
    world.tamper = undefined;
    await alice.sendText(conversation, "during", { replyTo: plan.id });
    await alice.flush();
    await syncAll(carol, dave);
    expect(await texts(carol, conversation)).toEqual(["alice: plan", "alice: during"]);
    expect((await record(world, carol, conversation))!.epoch).toBe(epoch + 1);

    await bob.sync();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    expect(world.hubs.get(conversation)!).toMatchObject({ epoch, members: [alice.address, bob.address, carol.address] });

    await syncAll(alice, carol, dave, bob);
    for (const person of [alice, bob, carol]) {
      expect(await record(world, person, conversation)).toMatchObject({ epoch, members: [alice.address, bob.address, carol.address] });
    }
    // Everyone is told the change was undone, and by whose veto: Alice, whose add it was, can make it again.
    for (const person of [alice, bob, carol]) {
      expect((await person.history(conversation, { limit: 100 })).filter((m) => m.notice?.type === "undone").map((m) => m.notice!.by)).toEqual([bob.address]);
    }
    // Dave is out again.
    expect((await dave.conversations()).find((c) => c.conversation === conversation)).toMatchObject({ left: true });
    // Bob, who never read "during" at the withdrawn epoch, reads it now, still the reply it was; Carol, who did, still shows it once.
    expect(await texts(bob, conversation)).toEqual(["alice: plan", "alice: during"]);
    expect((await bob.history(conversation, { limit: 100 })).find((m) => m.text === "during")).toMatchObject({ replyTo: plan.id });
    expect(await texts(carol, conversation)).toEqual(["alice: plan", "alice: during"]);

    await bob.sendText(conversation, "back");
    await bob.flush();
    await syncAll(alice, carol);
    expect(await texts(alice, conversation)).toEqual(["alice: plan", "alice: during", "bob: back"]);
    expect(await texts(carol, conversation)).toEqual(["alice: plan", "alice: during", "bob: back"]);
  });

  it("a device link's add that was withdrawn is made again by the device that made it, with a fresh KeyPackage", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const tablet = await world.anotherDevice(alice);
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    // What a device_added item naming a link of Alice's laptop leaves behind (PROTOCOL §6).
    await world.storeOf(alice).put(`devjob/${tablet.account!.deviceId}`, { kind: "add", deviceId: tablet.account!.deviceId });
    await alice.sync();
    world.tamper = undefined;
    await syncAll(tablet, carol);
    expect((await tablet.conversations()).find((c) => c.conversation === conversation)).toBeDefined();
    await bob.sync();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    await syncAll(alice, tablet, bob, carol);
    await bob.sendText(conversation, "hello tablet");
    await bob.flush();
    await syncAll(tablet, alice, carol);
    expect(await texts(tablet, conversation)).toEqual(["bob: hello tablet"]);
    expect((await tablet.conversations()).find((c) => c.conversation === conversation)?.left).toBeFalsy();
  });

  it("a member whose veto comes too late (another account committed on top) is told its conversation is stuck, not left waiting", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    const state = await decodeGroupState((await record(world, alice, conversation))!.group);
    const made = await refreshKeys(state);
    world.submit(conversation, alice.address, alice.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: made.commit });
    world.tamper = undefined;
    await carol.sync();
    const onTop = await refreshKeys(await decodeGroupState((await record(world, carol, conversation))!.group));
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch: epoch + 1, kind: "commit", mls: onTop.commit });
    await bob.sync();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    expect(world.hubs.get(conversation)!.epoch).toBe(epoch + 2);
    expect((await bob.conversations()).find((c) => c.conversation === conversation)?.unsafe).toMatch(/would not undo it/);
  });

  it("a device keeps no state from before a commit that another account's commit followed: no veto can withdraw it, so its secrets go", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    const first = randomId16();
    const byAlice = await refreshKeys(await decodeGroupState((await record(world, alice, conversation))!.group));
    world.submit(conversation, alice.address, alice.account!.deviceId, { id: first, epoch, kind: "commit", mls: byAlice.commit });
    await syncAll(bob, carol);
    expect((await record(world, bob, conversation))!.beforeCommits?.map((b) => b.commit)).toContain(first);
    const second = randomId16();
    const byCarol = await refreshKeys(await decodeGroupState((await record(world, carol, conversation))!.group));
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: second, epoch: epoch + 1, kind: "commit", mls: byCarol.commit });
    await bob.sync();
    const kept = (await record(world, bob, conversation))!.beforeCommits ?? [];
    expect(kept.map((b) => b.commit)).toEqual([second]);
    expect(kept.map((b) => ("epoch" in b ? b.epoch : undefined))).toEqual([epoch + 1]);
  });

  it("a malicious veto of a genuine commit takes everyone back together: no fork, and the change can be made again", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.bob.test");
    await world.befriend(alice, dave);
    const epoch = world.hubs.get(conversation)!.epoch;
    await alice.addToGroup(conversation, [dave.address]);
    await alice.flush();
    await syncAll(bob, carol, dave);
    const added = world.hubs.get(conversation)!.recent.at(-1)!;
    // Carol could process it; she vetoes it anyway.
    world.veto(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch: added.epoch, hubSeq: added.seq });
    await syncAll(alice, bob, carol, dave);
    for (const person of [alice, bob, carol]) expect(await record(world, person, conversation)).toMatchObject({ epoch, members: [alice.address, bob.address, carol.address] });

    await alice.sendText(conversation, "after");
    await alice.flush();
    await syncAll(bob, carol);
    await carol.sendText(conversation, "sorry");
    await carol.flush();
    await syncAll(alice, bob);
    for (const person of [alice, bob, carol]) expect(await texts(person, conversation)).toEqual(["alice: after", "carol: sorry"]);

    await alice.addToGroup(conversation, [dave.address]);
    await alice.flush();
    await syncAll(bob, carol, dave);
    await dave.sendText(conversation, "hi again");
    await dave.flush();
    await syncAll(alice, bob, carol);
    for (const person of [alice, bob, carol]) expect((await texts(person, conversation)).at(-1)).toBe("dave: hi again");
  });
});
