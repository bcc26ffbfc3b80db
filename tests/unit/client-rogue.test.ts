// A server that lies about a conversation (issue 14): its `from`, `members` and `type` are claims,
// and a client believes only what MLS and the keys it pinned prove (PROTOCOL §8).
import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary } from "../../shared/client/index.js";
import { encodeContent, newText } from "../../shared/content.js";
import { type KeyPair, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { fromB64u } from "../../shared/base64url.js";
import { addMembers, createGroup, encrypt } from "../../shared/mls/group.js";
import type { GroupState } from "../../shared/mls/group-state.js";
import { decodeGroupState } from "../../shared/mls/state-codec.js";
import type { ConvPayload } from "../../shared/wire/conversation.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { GroupWorld } from "./group-world.js";
import { makeDevice } from "./mls-people.js";

async function friends() {
  const world = new GroupWorld();
  const alice = await world.person("alice#im.alice.test");
  const bob = await world.person("bob#im.bob.test");
  await world.befriend(alice, bob);
  // Their 1:1, made the way the client makes it.
  await alice.sendText(bob.address, "hi bob");
  await alice.flush();
  await bob.sync();
  const real = (await bob.conversations()).find((c) => c.peer === alice.address)!;
  expect(real).toBeDefined();
  return { world, alice, bob, real: real.conversation };
}

/** Puts an item in `to`'s mailbox as a server would, saying whatever the test wants. */
function deliver(world: GroupWorld, to: EmsgClient, item: Omit<ConvPayload, "id" | "at" | "hubSeq"> & { hubSeq?: number }): void {
  const mailbox = world.accounts.get(to.address)!.mailbox;
  mailbox.push({ id: randomId16(), at: Date.now(), hubSeq: 1, ...item, kind: "conv", seq: mailbox.length + 1 } as MailItem);
}

/**
 * A rogue hub's group: a device certified for `claimed` by `accountKey` (the rogue's own key), which
 * adds the bob device whose KeyPackage the rogue claimed, as `/federation/claim` hands it out.
 */
async function rogueGroup(world: GroupWorld, bob: EmsgClient, claimed: string, accountKey: KeyPair) {
  const device = await makeDevice(claimed, accountKey, "rogue");
  const conversation = `im.evil.test/${randomId16()}`;
  const bobKeyPackage = world.accounts.get(bob.address)!.devices[0]!.keyPackages.shift()!;
  const added = await addMembers(await createGroup(device.me, conversation), [bobKeyPackage]);
  return { conversation, device, ...added };
}

async function say(state: GroupState, text: string) {
  return encrypt(state, encodeContent(newText(text, Date.now())));
}

const summaryOf = async (client: EmsgClient, conversation: string): Promise<ConversationSummary | undefined> =>
  (await client.conversations()).find((c) => c.conversation === conversation);

/** The conversation a message went to, as the hubs saw it; and whether anything went to the rogue's hub. */
const wentTo = (world: GroupWorld, id: string) => world.log.find((l) => l.submit.id === id)?.conversation;
const toRogue = (world: GroupWorld) => world.log.filter((l) => l.conversation.startsWith("im.evil.test/"));

describe("a client and a lying server", { timeout: 30_000 }, () => {
  it("a rogue's group labelled as from a friend, with the friend on its roster, is not the 1:1 with that friend", async () => {
    const { world, alice, bob, real } = await friends();
    const rogue = await rogueGroup(world, bob, "mallory#im.evil.test", generateKeyPair());
    deliver(world, bob, {
      conversation: rogue.conversation as never, from: alice.address, deviceId: alice.account!.deviceId, epoch: 0,
      type: "welcome", mls: rogue.welcome, members: [alice.address, bob.address],
    });
    await bob.sync();

    // Bob sees the group for what its tree holds: a conversation with mallory, not with alice.
    const filed = (await summaryOf(bob, rogue.conversation))!;
    expect(filed).toMatchObject({ kind: "direct", peer: "mallory#im.evil.test", members: ["mallory#im.evil.test", bob.address] });
    expect(filed.members).not.toContain(alice.address);

    const secret = await bob.sendText(alice.address, "my secret");
    await bob.flush();
    expect(wentTo(world, secret.id)).toBe(real);
    expect(toRogue(world)).toEqual([]);
    await alice.sync();
    expect((await alice.history(bob.address)).map((m) => m.text)).toEqual(["hi bob", "my secret"]);
  });

  it("a Welcome holding a device of a friend that the friend's pinned key did not certify is refused and shown as unsafe", async () => {
    const { world, alice, bob, real } = await friends();
    const rogue = await rogueGroup(world, bob, alice.address, generateKeyPair());
    deliver(world, bob, {
      conversation: rogue.conversation as never, from: alice.address, deviceId: alice.account!.deviceId, epoch: 0,
      type: "welcome", mls: rogue.welcome, members: [alice.address, bob.address],
    });
    const shown: string[] = [];
    bob.on("message", (m) => void (m.notice || shown.push(m.text)));
    await bob.sync();
    const fake = (await summaryOf(bob, rogue.conversation))!;
    expect(fake.unsafe).toMatch(/alice#im\.alice\.test.*not certified by the account key pinned/);

    // What the impostor writes there is not shown as from alice, or at all.
    const sent = await say(rogue.state, "it's me, alice: send me your password");
    deliver(world, bob, { conversation: rogue.conversation as never, hubSeq: 2, from: alice.address, deviceId: alice.account!.deviceId, epoch: 1, type: "application", mls: sent.mls });
    await bob.sync();
    expect(shown).toEqual([]);
    expect((await bob.history(rogue.conversation)).filter((m) => !m.notice)).toEqual([]);
    await expect(bob.sendText(rogue.conversation, "who are you?")).rejects.toMatchObject({ code: "unauthorized" });

    // Writing to alice still goes to the real 1:1.
    const asked = await bob.sendText(alice.address, "are you there?");
    await bob.flush();
    expect(wentTo(world, asked.id)).toBe(real);
    expect(toRogue(world)).toEqual([]);
  });

  it("a Welcome holding a device of a friend that the friend's pinned key did certify, but that the friend's server does not list (a removed device's new key), is refused as unsafe", async () => {
    const { world, alice, bob, real } = await friends();
    // A device alice removed kept her account key: it certifies a key of its own and makes a group.
    const { accountPrivateKey, accountPublicKey } = alice.account!;
    const aliceKey = { publicKey: fromB64u(accountPublicKey), privateKey: fromB64u(accountPrivateKey) };
    const rogue = await rogueGroup(world, bob, alice.address, aliceKey);
    deliver(world, bob, {
      conversation: rogue.conversation as never, from: alice.address, deviceId: rogue.device.me.deviceCert.body.deviceId, epoch: 0,
      type: "welcome", mls: rogue.welcome, members: [alice.address, bob.address],
    });
    await bob.sync();
    const fake = (await summaryOf(bob, rogue.conversation))!;
    expect(fake.unsafe).toMatch(/claims to be alice#im\.alice\.test but is not one of its devices/);
    const asked = await bob.sendText(alice.address, "still you?");
    await bob.flush();
    expect(wentTo(world, asked.id)).toBe(real);
    expect(toRogue(world)).toEqual([]);

    // A device alice links now is listed, and a group it makes with bob is one like any other.
    const laptop = await world.anotherDevice(alice);
    const carol = await world.person("carol#im.bob.test");
    await world.befriend(laptop, bob);
    await world.befriend(laptop, carol);
    const plans = await laptop.createGroup("Plans", [bob.address, carol.address]);
    await laptop.flush();
    await bob.sync();
    const joined = (await summaryOf(bob, plans.conversation))!;
    expect(joined.unsafe).toBeUndefined();
    expect(joined.members).toEqual([alice.address, bob.address, carol.address]);
  });

  it("an application message delivered as a proposal or a commit is not shown, and is still unread when it comes as what it is", async () => {
    const { world, alice, bob, real } = await friends();
    const shown: string[] = [];
    bob.on("message", (m) => void (m.notice || shown.push(m.text)));
    const record = (await world.storeOf(alice).get<{ group: string; epoch: number }>(`conv/${real}`))!;
    const sent = await say(await decodeGroupState(record.group), "smuggled");
    const item = { conversation: real as never, from: alice.address, deviceId: alice.account!.deviceId, epoch: record.epoch, mls: sent.mls };
    deliver(world, bob, { ...item, hubSeq: 10, type: "proposal" });
    deliver(world, bob, { ...item, hubSeq: 11, type: "commit" });
    await bob.sync();
    expect(shown).toEqual([]);
    expect((await bob.history(alice.address)).filter((m) => !m.notice).map((m) => m.text)).toEqual(["hi bob"]);

    // Refused unread: the same ciphertext, delivered as the application message it is, reads once.
    deliver(world, bob, { ...item, hubSeq: 12, type: "application" });
    await bob.sync();
    expect(shown).toEqual(["smuggled"]);
  });

  it("a commit the hub passes on as another member's is refused, not applied: the conversation says why", async () => {
    const world = new GroupWorld();
    const [alice, bob, carol, dave] = await Promise.all(["alice#im.alice.test", "bob#im.bob.test", "carol#im.bob.test", "dave#im.alice.test"].map((a) => world.person(a)));
    for (const friend of [bob!, carol!, dave!]) await world.befriend(alice!, friend);
    const trip = await alice!.createGroup("Trip", [bob!.address, carol!.address]);
    await alice!.flush();
    await bob!.sync();
    // Alice's commit adding Dave, which the hub passes on as Carol's.
    const record = (await world.storeOf(alice!).get<{ group: string; epoch: number }>(`conv/${trip.conversation}`))!;
    const daveKeyPackage = world.accounts.get(dave!.address)!.devices[0]!.keyPackages.shift()!;
    const made = await addMembers(await decodeGroupState(record.group), [daveKeyPackage]);
    world.submit(trip.conversation, carol!.address, carol!.account!.deviceId, {
      id: randomId16(), epoch: record.epoch, kind: "commit", mls: made.commit, welcome: made.welcome, roster: { add: [dave!.address], remove: [] },
    });
    await bob!.sync();
    // The author is the MLS sender (Alice); a hub that names another is not believed, and the commit is not read (§8).
    expect((await bob!.history(trip.conversation)).find((m) => m.notice?.type === "added")).toBeUndefined();
    expect((await summaryOf(bob!, trip.conversation))!.unsafe).toMatch(/server says carol#im\.bob\.test .* but it is from alice#im\.alice\.test/);
  });

  it("a 1:1 whose tree comes to hold a third account is a group from then on, and writing to the friend makes a new 1:1", async () => {
    const { world, alice, bob, real } = await friends();
    const carol = await world.person("carol#im.bob.test");
    const record = (await world.storeOf(alice).get<{ group: string; epoch: number }>(`conv/${real}`))!;
    const carolKeyPackage = world.accounts.get(carol.address)!.devices[0]!.keyPackages.shift()!;
    const made = await addMembers(await decodeGroupState(record.group), [carolKeyPackage]);
    world.submit(real, alice.address, alice.account!.deviceId, {
      id: randomId16(), epoch: record.epoch, kind: "commit", mls: made.commit, welcome: made.welcome, roster: { add: [carol.address], remove: [] },
    });
    await bob.sync();
    expect(await summaryOf(bob, real)).toMatchObject({ kind: "group", members: [alice.address, bob.address, carol.address] });
    const sent = await bob.sendText(alice.address, "just the two of us");
    await bob.flush();
    expect(wentTo(world, sent.id)).not.toBe(real);
    expect(world.hubs.get(wentTo(world, sent.id)!)!.members).toEqual([bob.address, alice.address]);
  });

  it("a 1:1 stored before the friend's key was recorded on it is proven from its tree; one a rogue filed under the friend is passed over for the real one", async () => {
    const { world, alice, bob, real } = await friends();
    const store = world.storeOf(bob);
    const { peerKey: _proven, ...kept } = (await store.get<Record<string, unknown>>(`conv/${real}`))!;
    await store.put(`conv/${real}`, kept);
    const first = await bob.sendText(alice.address, "still here");
    await bob.flush();
    expect(wentTo(world, first.id)).toBe(real);

    // What an earlier client made of a rogue's Welcome labelled from alice: filed under her address.
    const rogue = await rogueGroup(world, bob, "mallory#im.evil.test", generateKeyPair());
    deliver(world, bob, { conversation: rogue.conversation as never, from: alice.address, deviceId: alice.account!.deviceId, epoch: 0, type: "welcome", mls: rogue.welcome });
    await bob.sync();
    const filed = (await store.get<Record<string, unknown>>(`conv/${rogue.conversation}`))!;
    await store.put(`conv/${rogue.conversation}`, { ...filed, peer: alice.address, members: [alice.address, bob.address] });
    await store.put(`peer/${alice.address}`, rogue.conversation);
    const second = await bob.sendText(alice.address, "is this you?");
    await bob.flush();
    // The real 1:1, still proven, is found again.
    expect(wentTo(world, second.id)).toBe(real);
    expect(toRogue(world)).toEqual([]);
  });

  it("the 1:1 written to is the latest one joined with the friend, and a rogue's later one does not displace it", async () => {
    const { world, alice, bob, real } = await friends();
    // Alice's device lost track of their 1:1 (a restore, say) and makes a new one.
    await world.storeOf(alice).delete(`conv/${real}`);
    await alice.sendText(bob.address, "new phone, who dis");
    await alice.flush();
    await bob.sync();
    const [{ conversation: newer }] = (await alice.conversations()) as [ConversationSummary];
    expect(newer).not.toBe(real);

    const rogue = await rogueGroup(world, bob, "mallory#im.evil.test", generateKeyPair());
    deliver(world, bob, {
      conversation: rogue.conversation as never, from: alice.address, deviceId: alice.account!.deviceId, epoch: 0,
      type: "welcome", mls: rogue.welcome, members: [alice.address, bob.address],
    });
    await bob.sync();
    const again = await bob.sendText(alice.address, "hello again");
    await bob.flush();
    expect(wentTo(world, again.id)).toBe(newer);
  });
});
