import { describe, expect, it, vi } from "vitest";
import { READD_DELAY_MS } from "../../shared/client/rejoin.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, refreshKeys } from "../../shared/mls/group.js";
import { epochOf } from "../../shared/mls/group-state.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import type { ConvPayload } from "../../shared/wire/conversation.js";
import { bobStuck, broken, commits, GroupWorld, record, syncAll, tripGroup } from "./group-world.js";

// A device left behind its group for good (its veto refused: another account committed on top)
// asks to be let back in, and an in-step member re-adds that same device (PROTOCOL §8, Rejoining).

async function texts(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await client.history(conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

async function notices(client: EmsgClient, conversation: string): Promise<string[]> {
  return (await client.history(conversation, { limit: 500 })).flatMap((m) => (m.notice ? [m.notice.type] : []));
}

describe("a device out of step is let back in", { timeout: 60_000 }, () => {
  it("after its refused veto it asks, an in-step member re-adds it, and it reads and sends again, saying what it missed", async () => {
    const { world, alice, bob, carol, conversation } = await bobStuck();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    expect(world.rejoins).toEqual([{ from: bob.address, deviceId: bob.account!.deviceId, conversation }]);
    expect((await record(world, bob, conversation))!.unsafe).toMatch(/would not undo it/);
    // What Bob writes meanwhile waits for him to be back.
    await bob.sendText(conversation, "am I back?");
    expect((await bob.history(conversation, { limit: 10 })).at(-1)).toMatchObject({ text: "am I back?", status: "sending" });
    const before = commits(world, conversation).length;
    await syncAll(alice, carol);
    // One re-add, by Alice's device (the first in the tree): Carol waits her turn and finds it done.
    expect(commits(world, conversation).slice(before).map((c) => c.from)).toEqual([alice.address]);
    await bob.sync();
    const back = (await record(world, bob, conversation))!;
    expect(back.unsafe).toBeUndefined();
    expect(back.members).toEqual([alice.address, bob.address, carol.address]);
    expect(await notices(bob, conversation)).toContain("rejoined");
    expect((await bob.history(conversation, { limit: 10 })).find((m) => m.text === "am I back?")).toMatchObject({ status: "sent" });

    await syncAll(alice, carol);
    await alice.sendText(conversation, "welcome back");
    await alice.flush();
    await syncAll(carol, bob);
    for (const person of [alice, bob, carol]) expect(await texts(person, conversation)).toEqual(["bob: am I back?", "alice: welcome back"]);
    // Nobody else is told of it: nobody joined or went but Dave.
    expect(await notices(carol, conversation)).toEqual(["created", "added", "removed"]);
  });

  it("a device whose re-add is withdrawn by a veto is behind again, asks again, and is let back in again", async () => {
    const { world, alice, bob, carol, conversation } = await bobStuck();
    await syncAll(alice, carol);
    const readd = world.hubs.get(conversation)!.recent.at(-1)!;
    await bob.sync();
    expect((await record(world, bob, conversation))!.unsafe).toBeUndefined();
    // Carol vetoes Alice's re-add of Bob (she could process it): everyone goes back to before it.
    world.veto(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch: readd.epoch, hubSeq: readd.seq });
    await bob.sync();
    expect(world.rejoins.map((r) => r.from)).toEqual([bob.address, bob.address]);
    await syncAll(alice, carol, bob);
    expect((await record(world, bob, conversation))!.unsafe).toBeUndefined();
    await bob.sendText(conversation, "back again");
    await bob.flush();
    await syncAll(alice, carol);
    for (const person of [alice, carol]) expect((await texts(person, conversation)).at(-1)).toBe("bob: back again");
  });

  it("a member whose commits only one device cannot process runs that account's vetoes out; the device, refused, is let back in", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.bob.test");
    await world.befriend(alice, dave);
    // Alice's adds of Dave reach Bob broken, as a member can make its commits for one device.
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    for (let i = 0; i < 3; i++) {
      await alice.addToGroup(conversation, [dave.address]);
      await bob.sync();
      await syncAll(alice, carol, dave);
    }
    expect(world.vetoesAccepted.get(bob.address)).toBe(3);
    await alice.addToGroup(conversation, [dave.address]);
    world.tamper = undefined;
    await bob.sync();
    // The fourth veto is refused (rate_limited): Bob's device is behind, and asks back in.
    expect(world.rejoins.map((r) => r.from)).toEqual([bob.address]);
    expect((await record(world, bob, conversation))!.unsafe).toMatch(/rate_limited|too many/);
    await syncAll(alice, carol, dave, bob);
    expect((await record(world, bob, conversation))!).toMatchObject({ members: [alice.address, bob.address, carol.address, dave.address] });
    expect((await record(world, bob, conversation))!.unsafe).toBeUndefined();
    await bob.sendText(conversation, "hi dave");
    await bob.flush();
    await syncAll(alice, carol, dave);
    for (const person of [alice, carol, dave]) expect((await texts(person, conversation)).at(-1)).toBe("bob: hi dave");
  });

  it("the asking account's other device re-adds it first; with the chosen device away, another member does after a delay, and the chosen one then finds it done", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const tablet = await world.anotherDevice(bob);
    await world.storeOf(bob).put(`devjob/${tablet.account!.deviceId}`, { kind: "add", deviceId: tablet.account!.deviceId });
    await bob.sync();
    await syncAll(alice, carol, tablet);
    // Bob's tablet asks (as a device out of step would): Bob's phone, of the same account, acts at once, nobody else.
    let before = commits(world, conversation).length;
    world.rejoin(conversation, bob.address, tablet.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
    await syncAll(alice, carol, bob);
    expect(commits(world, conversation).slice(before).map((c) => c.from)).toEqual([bob.address]);
    await syncAll(tablet, alice, carol);

    // Carol asks; Alice's device, the first in the tree, is away. Bob's waits, then acts.
    before = commits(world, conversation).length;
    world.rejoin(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
    await syncAll(bob, tablet);
    expect(commits(world, conversation).length).toBe(before);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + READD_DELAY_MS + 1000);
      await syncAll(bob, tablet, carol);
      expect(commits(world, conversation).slice(before).map((c) => c.from)).toEqual([bob.address]);
      await syncAll(alice, carol);
      expect(commits(world, conversation).slice(before).map((c) => c.from)).toEqual([bob.address]);
    } finally {
      vi.useRealTimers();
    }
    await carol.sendText(conversation, "thanks bob");
    await carol.flush();
    await syncAll(alice, bob, tablet);
    for (const person of [alice, bob, tablet]) expect(await texts(person, conversation)).toEqual(["carol: thanks bob"]);
  });

  it("a rejoin entry a lying hub made up costs a device in step only a re-add: the same roster, nothing lost, no notice", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    await alice.sendText(conversation, "before");
    await alice.flush();
    await syncAll(bob, carol);
    world.rejoin(conversation, bob.address, bob.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
    await syncAll(alice, bob, carol);
    expect(commits(world, conversation).at(-1)!.from).toBe(alice.address);
    // Bob could not process his own re-add (MLS gives him his old leaf's place), but took its Welcome instead of vetoing it.
    expect(world.vetoes).toEqual([]);
    const bobs = (await record(world, bob, conversation))!;
    expect(bobs).toMatchObject({ epoch: world.hubs.get(conversation)!.epoch, members: [alice.address, bob.address, carol.address] });
    expect(bobs.unsafe).toBeUndefined();
    expect(bobs.left).toBeFalsy();
    expect(await notices(bob, conversation)).toEqual(["created"]);
    await bob.sendText(conversation, "still here");
    await bob.flush();
    await syncAll(alice, carol);
    for (const person of [alice, bob, carol]) expect(await texts(person, conversation)).toEqual(["alice: before", "bob: still here"]);
  });

  it("a Welcome of a group a member built of the same people, sent with a commit the device cannot process, is not taken for a re-add: the device vetoes", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    // Carol builds a group of her own under the conversation's id, from KeyPackages of Alice's and Bob's devices, at the epoch a re-add would bring.
    const kp = (client: EmsgClient) => world.accounts.get(client.address)!.devices.find((d) => d.cert.body.deviceId === client.account!.deviceId)!.keyPackages.shift()!;
    let fork = await createGroup(deviceIdentityOf(carol.account!), conversation);
    while (epochOf(fork) < epoch) fork = (await refreshKeys(fork)).state;
    const forged = await addMembers(fork, [kp(alice), kp(bob)]);
    expect(epochOf(forged.state)).toBe(epoch + 1);
    // With it, a commit whose path secret for Bob is garbage (the others read it).
    const real = await refreshKeys(await decodeGroupState((await record(world, carol, conversation))!.group));
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: real.commit, welcome: forged.welcome, roster: { add: [bob.address], remove: [] } });
    world.tamper = undefined;
    await bob.sync();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    expect(world.hubs.get(conversation)!.epoch).toBe(epoch);
    await syncAll(alice, bob);
    expect((await record(world, bob, conversation))!).toMatchObject({ epoch, members: [alice.address, bob.address, carol.address] });
    await alice.sendText(conversation, "only the real group");
    await alice.flush();
    await bob.sync();
    expect(await texts(bob, conversation)).toEqual(["alice: only the real group"]);
  });

  it("a member re-adds only the very device that asked: a KeyPackage of another device, or another account, offered in its place is refused", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const tablet = await world.anotherDevice(bob);
    const dave = await world.person("dave#im.bob.test");
    const bobsDevice = world.accounts.get(bob.address)!.devices.find((d) => d.cert.body.deviceId === bob.account!.deviceId)!;
    for (const impostor of [tablet, dave]) {
      // Bob's server hands out someone else's KeyPackage under his device's certificate.
      const other = world.accounts.get(impostor.address)!.devices.find((d) => d.cert.body.deviceId === impostor.account!.deviceId)!;
      bobsDevice.keyPackages = [...other.keyPackages];
      const before = commits(world, conversation).length;
      world.rejoin(conversation, bob.address, bob.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
      await syncAll(alice, carol);
      expect(commits(world, conversation).length).toBe(before);
    }
    // Nobody else got into the group, and it goes on.
    await bob.sync();
    for (const person of [alice, bob, carol]) expect((await record(world, person, conversation))!.members).toEqual([alice.address, bob.address, carol.address]);
    await alice.sendText(conversation, "all fine");
    await alice.flush();
    await syncAll(bob, tablet);
    expect(await texts(bob, conversation)).toEqual(["alice: all fine"]);
    expect(await tablet.conversations()).toEqual([]);
  });

  it("a commit adding a device another key certified than the one pinned is vetoed and withdrawn, not left to stop the chat", async () => {
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
    await alice.flush();
    await syncAll(bob, dave);
    const epoch = world.hubs.get(trip.conversation)!.epoch;

    await alice.addToGroup(trip.conversation, [impostor.address]);
    await bob.sync();
    // Bob, who pinned the real Carol, vetoes it; the hub takes everyone back to before it.
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    expect(world.hubs.get(trip.conversation)!).toMatchObject({ epoch, members: [alice.address, bob.address, dave.address] });
    await syncAll(alice, dave, impostor, bob);
    expect((await record(world, bob, trip.conversation))!.unsafe).toBeUndefined();
    for (const person of [alice, bob, dave]) {
      expect(await record(world, person, trip.conversation)).toMatchObject({ epoch, members: [alice.address, bob.address, dave.address] });
      expect(await notices(person, trip.conversation)).toContain("undone");
    }
    expect((await impostor.conversations()).find((c) => c.conversation === trip.conversation)).toMatchObject({ left: true });
    await bob.sendText(trip.conversation, "who was that?");
    await bob.flush();
    await syncAll(alice, dave);
    for (const person of [alice, dave]) expect(await texts(person, trip.conversation)).toEqual(["bob: who was that?"]);
  });
});
