import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { addMembers, createGroup, readdMember, refreshKeys } from "../../shared/mls/group.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import { epochOf } from "../../shared/mls/group-state.js";
import type { ConvPayload } from "../../shared/wire/conversation.js";
import { bobStuck, broken, commits, GroupWorld, record, syncAll, threeFriends, tripGroup } from "./group-world.js";

// Attacks on Rejoining (PROTOCOL §8) by a lying hub or a malicious member, and what they get.

/** A KeyPackage of `client`'s device, as its server hands one out to any claim. */
const claimed = (world: GroupWorld, client: EmsgClient) =>
  world.accounts.get(client.address)!.devices.find((d) => d.cert.body.deviceId === client.account!.deviceId)!.keyPackages.shift()!;

/** What the hub puts in `to`'s mailbox by itself: it orders everything, so it can hand anything over. */
function handOver(world: GroupWorld, to: EmsgClient, payload: ConvPayload): void {
  const mailbox = world.accounts.get(to.address)!.mailbox;
  mailbox.push({ ...payload, kind: "conv", seq: mailbox.length + 1 } as MailItem);
}

describe("rejoin attacks", { timeout: 60_000 }, () => {
  it("a device waiting to be let back in takes no Welcome of a group the hub's own account made: what it queued stays with it", async () => {
    const { world, alice, bob, carol, conversation } = await bobStuck();
    expect((await record(world, bob, conversation))!.rejoin?.stuck).toBe(true);
    await bob.sendText(conversation, "for the trip only");
    // Eve, the hub's own user and nobody Bob knows, makes a group under the conversation's id with a claimed KeyPackage of Bob's device.
    const eve = await world.person("eve#im.alice.test");
    const own = await createGroup(deviceIdentityOf(eve.account!), conversation);
    const made = await addMembers(own, [claimed(world, bob)]);
    handOver(world, bob, {
      conversation: conversation as ConvPayload["conversation"], id: randomId16(), hubSeq: world.hubs.get(conversation)!.seq + 1, from: alice.address,
      deviceId: alice.account!.deviceId, epoch: epochOf(made.state) - 1, type: "welcome", mls: made.welcome!, members: [alice.address, bob.address, eve.address], at: Date.now(),
    });
    await bob.sync();
    const after = (await record(world, bob, conversation))!;
    expect(after.members).toEqual([alice.address, bob.address, carol.address]);
    expect(after.rejoin?.stuck).toBe(true);
    expect((await bob.history(conversation, { limit: 10 })).find((m) => m.text === "for the trip only")).toMatchObject({ status: "sending" });
    // The real re-add, by Alice's device, still lets him back in, and what he queued goes to the trip.
    await syncAll(alice, carol);
    await bob.sync();
    expect((await record(world, bob, conversation))!).toMatchObject({ members: [alice.address, bob.address, carol.address] });
    expect((await record(world, bob, conversation))!.unsafe).toBeUndefined();
    await bob.flush();
    await syncAll(alice, carol);
    expect((await alice.history(conversation, { limit: 10 })).filter((m) => !m.notice).map((m) => m.text)).toEqual(["for the trip only"]);
  });

  it("a 1:1 waiting to be let back in does not become a 1:1 with the hub's own account: the hub's Welcome of its user and Bob is refused", async () => {
    const { world, alice, bob } = await threeFriends();
    await alice.sendText(bob.address, "hi");
    await alice.flush();
    await bob.sync();
    const conversation = (await bob.conversations())[0]!.conversation;
    // Bob's vetoes ran out today; a commit of Alice's reaches him broken: he is behind for good.
    world.vetoesAccepted.set(bob.address, 3);
    const epoch = world.hubs.get(conversation)!.epoch;
    const real = await refreshKeys(await decodeGroupState((await record(world, alice, conversation))!.group));
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    world.submit(conversation, alice.address, alice.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: real.commit });
    world.tamper = undefined;
    await bob.sync();
    expect((await record(world, bob, conversation))!.rejoin?.stuck).toBe(true);
    await bob.sendText(conversation, "only for alice");
    // The hub's own user Eve makes a group of herself and Bob under the 1:1's id.
    const eve = await world.person("eve#im.alice.test");
    const made = await addMembers(await createGroup(deviceIdentityOf(eve.account!), conversation), [claimed(world, bob)]);
    handOver(world, bob, {
      conversation: conversation as ConvPayload["conversation"], id: randomId16(), hubSeq: ++world.hubs.get(conversation)!.seq, from: alice.address,
      deviceId: alice.account!.deviceId, epoch: epochOf(made.state) - 1, type: "welcome", mls: made.welcome!, members: [eve.address, bob.address], at: Date.now(),
    });
    await bob.sync();
    expect((await record(world, bob, conversation))!).toMatchObject({ kind: "direct", peer: alice.address, members: [alice.address, bob.address], rejoin: { stuck: true } });
    expect((await bob.history(conversation, { limit: 10 })).find((m) => m.text === "only for alice")).toMatchObject({ status: "sending" });
  });

  it("a rejoin entry for a device its account removed (not yet out of this group) re-adds nothing: its server no longer lists it", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    await world.anotherDevice(bob);
    // Bob took his phone off his account; his tablet has not removed it from the trip yet.
    const devices = world.accounts.get(bob.address)!.devices;
    devices.splice(devices.findIndex((d) => d.cert.body.deviceId === bob.account!.deviceId), 1);
    const before = commits(world, conversation).length;
    world.rejoin(conversation, bob.address, bob.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
    await syncAll(alice, carol);
    expect(commits(world, conversation).length).toBe(before);
  });

  it("an entry naming another account's device, asked by a member or made up by the hub for an outsider, re-adds nothing", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.bob.test");
    const before = commits(world, conversation).length;
    // Carol asks for Bob's device: the hub takes it (a member, and a device id is her server's word).
    world.rejoin(conversation, carol.address, bob.account!.deviceId, { id: randomId16(), epoch: world.hubs.get(conversation)!.epoch });
    // The hub makes one up for Dave, who is in no group, naming Bob's device too.
    const hub = world.hubs.get(conversation)!;
    for (const to of [alice, carol]) {
      handOver(world, to, {
        conversation: conversation as ConvPayload["conversation"], id: randomId16(), hubSeq: ++hub.seq, from: dave.address,
        deviceId: bob.account!.deviceId, epoch: hub.epoch, type: "rejoin", mls: "", at: Date.now(),
      });
    }
    await syncAll(alice, carol);
    expect(commits(world, conversation).length).toBe(before);
    for (const person of [alice, bob, carol]) expect((await record(world, person, conversation))!.members).toEqual([alice.address, bob.address, carol.address]);
  });

  // A member re-adds the device in a commit of its own on the real state, kept to itself, and
  // submits another commit the device cannot process with that Welcome: every leaf but the device's
  // and the committer's is the real one, but the Welcome is not of the epoch the submitted commit
  // makes (its seal: PROTOCOL §8 Rejoining), so the device vetoes instead of taking a fork.
  it("a Welcome of the member's own re-add on the real state, with another commit the device cannot process, is not taken: the device vetoes", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    const real = await decodeGroupState((await record(world, carol, conversation))!.group);
    const fork = await readdMember(real, bob.account!.deviceId, claimed(world, bob));
    const submitted = await refreshKeys(await decodeGroupState((await record(world, carol, conversation))!.group));
    world.tamper = (to, item: ConvPayload) => (to === bob.address && item.type === "commit" ? { ...item, mls: broken(item.mls) } : item);
    world.submit(conversation, carol.address, carol.account!.deviceId, { id: randomId16(), epoch, kind: "commit", mls: submitted.commit, welcome: fork.welcome, roster: { add: [bob.address], remove: [] } });
    world.tamper = undefined;
    await bob.sync();
    expect(world.vetoes.map((v) => v.from)).toEqual([bob.address]);
    await syncAll(alice, bob);
    await alice.sendText(conversation, "only the real group");
    await alice.flush();
    await bob.sync();
    expect((await bob.history(conversation, { limit: 10 })).filter((m) => !m.notice).map((m) => m.text)).toEqual(["only the real group"]);
  });
});
