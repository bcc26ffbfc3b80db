import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import {
  addMembers,
  createGroup,
  encrypt,
  epochOf,
  type GroupState,
  groupIdOf,
  joinFromWelcome,
  membersOf,
  processMessage,
  refreshKeys,
  removeMembers,
} from "../../shared/mls/index.js";
import { type Device, makePerson, text, utf8 } from "./mls-people.js";

async function receive(state: GroupState, mls: string) {
  const out = await processMessage(state, mls);
  if (out.kind !== "application") throw new Error(`expected an application message, got ${out.kind}`);
  return out;
}

describe("a 1:1 conversation is one MLS group over both people's devices", () => {
  it("alice (two devices) and bob (one) read each other's messages exactly", async () => {
    const alice = await makePerson("alice#im.alice.test", 2);
    const bob = await makePerson("bob#im.bob.test", 1);
    const [laptop, phone] = alice.devices as [Device, Device];
    const [bobPhone] = bob.devices as [Device];
    const conversation = `im.alice.test/${randomId16()}`;

    const created = await createGroup(laptop.me, conversation);
    const added = await addMembers(created, [phone.bundles[0]!.keyPackage, bobPhone.bundles[0]!.keyPackage]);
    let aliceLaptop = added.state;
    const joinedPhone = await joinFromWelcome(phone.me, added.welcome, phone.bundles);
    const joinedBob = await joinFromWelcome(bobPhone.me, added.welcome, bobPhone.bundles);
    expect(joinedPhone.usedRef).toBe(phone.bundles[0]!.ref);
    expect(joinedBob.usedRef).toBe(bobPhone.bundles[0]!.ref);
    let alicePhone = joinedPhone.state;
    let bobState = joinedBob.state;

    for (const s of [aliceLaptop, alicePhone, bobState]) {
      expect(groupIdOf(s)).toBe(conversation);
      expect(epochOf(s)).toBe(1);
      expect(membersOf(s).map((m) => m.address).sort()).toEqual(["alice#im.alice.test", "alice#im.alice.test", "bob#im.bob.test"]);
    }

    const hello = "Hello Bob — ça va? 👋";
    const sent = await encrypt(aliceLaptop, utf8.encode(hello));
    aliceLaptop = sent.state;
    const atBob = await receive(bobState, sent.mls);
    bobState = atBob.state;
    const atPhone = await receive(alicePhone, sent.mls);
    alicePhone = atPhone.state;
    expect(text(atBob.plaintext)).toBe(hello);
    expect(text(atPhone.plaintext)).toBe(hello);
    expect(atBob.sender.address).toBe("alice#im.alice.test");
    expect(atBob.sender.deviceId).toBe(laptop.me.deviceCert.body.deviceId);

    const reply = await encrypt(bobState, utf8.encode("Hi Alice!"));
    bobState = reply.state;
    for (const alices of [aliceLaptop, alicePhone]) {
      const got = await receive(alices, reply.mls);
      expect(text(got.plaintext)).toBe("Hi Alice!");
      expect(got.sender.address).toBe("bob#im.bob.test");
    }
  });
});

describe("groups", () => {
  it("a third account joins, reads, is removed, and cannot read what follows", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const carol = await makePerson("carol#im.carol.test");
    const [a] = alice.devices as [Device];
    const [b] = bob.devices as [Device];
    const [c] = carol.devices as [Device];

    const first = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    let aState = first.state;
    let bState = (await joinFromWelcome(b.me, first.welcome, b.bundles)).state;

    const withCarol = await addMembers(aState, [c.bundles[1]!.keyPackage]);
    aState = withCarol.state;
    const seenByBob = await processMessage(bState, withCarol.commit);
    if (seenByBob.kind !== "commit") throw new Error("expected a commit");
    expect(seenByBob.epoch).toBe(2);
    expect(seenByBob.added.map((d) => d.address)).toEqual(["carol#im.carol.test"]);
    expect(seenByBob.removed).toEqual([]);
    bState = seenByBob.state;
    const joined = await joinFromWelcome(c.me, withCarol.welcome, c.bundles);
    expect(joined.usedRef).toBe(c.bundles[1]!.ref);
    let cState = joined.state;

    const welcome = await encrypt(aState, utf8.encode("Welcome, Carol"));
    aState = welcome.state;
    const carolReads = await receive(cState, welcome.mls);
    cState = carolReads.state;
    expect(text(carolReads.plaintext)).toBe("Welcome, Carol");

    const removal = await removeMembers(aState, [c.me.deviceCert.body.deviceId]);
    aState = removal.state;
    const bobSees = await processMessage(bState, removal.commit);
    if (bobSees.kind !== "commit") throw new Error("expected a commit");
    expect(bobSees.removed.map((d) => d.address)).toEqual(["carol#im.carol.test"]);
    bState = bobSees.state;
    const carolBeforeRemoval = cState;
    const carolSees = await processMessage(cState, removal.commit);
    if (carolSees.kind !== "commit") throw new Error("expected a commit");
    expect(carolSees.removed.map((d) => d.address)).toEqual(["carol#im.carol.test"]);
    cState = carolSees.state;

    const secret = await encrypt(aState, utf8.encode("Carol has left"));
    expect(text((await receive(bState, secret.mls)).plaintext)).toBe("Carol has left");
    await expect(processMessage(cState, secret.mls)).rejects.toMatchObject({ code: "forbidden" });
    // Even a copy of her state from before the removal holds no key for the new epoch.
    await expect(processMessage(carolBeforeRemoval, secret.mls)).rejects.toMatchObject({ code: "stale_epoch" });
    await expect(encrypt(cState, utf8.encode("still here?"))).rejects.toMatchObject({ code: "forbidden" });
    expect(membersOf(aState).map((m) => m.address).sort()).toEqual(["alice#im.alice.test", "bob#im.bob.test"]);
  });

  it("a device refreshes its keys with an empty commit and the conversation goes on", async () => {
    const [a] = (await makePerson("alice#im.alice.test")).devices as [Device];
    const [b] = (await makePerson("bob#im.bob.test")).devices as [Device];
    const added = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    const bState = (await joinFromWelcome(b.me, added.welcome, b.bundles)).state;
    const refreshed = await refreshKeys(bState);
    const atAlice = await processMessage(added.state, refreshed.commit);
    expect(atAlice).toMatchObject({ kind: "commit", epoch: 2, added: [], removed: [] });
    const sent = await encrypt(atAlice.state, utf8.encode("new keys, same chat"));
    expect(text((await receive(refreshed.state, sent.mls)).plaintext)).toBe("new keys, same chat");
  });

  it("adding a device that is already in the group is a conflict", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const [b] = bob.devices as [Device];
    const added = await addMembers(await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    await expect(addMembers(added.state, [b.bundles[1]!.keyPackage])).rejects.toMatchObject({ code: "conflict" });
  });

  it("removing a device that is not in the group is not_found", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const state = await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`);
    await expect(removeMembers(state, [randomId16()])).rejects.toMatchObject({ code: "not_found" });
  });

  it("a Welcome for none of the device's KeyPackages is not_found", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const added = await addMembers(await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`), [bob.devices[0]!.bundles[0]!.keyPackage]);
    const otherBundles = bob.devices[0]!.bundles.slice(1);
    await expect(joinFromWelcome(bob.devices[0]!.me, added.welcome, otherBundles)).rejects.toMatchObject({ code: "not_found" });
  });

  it("a conversation id that is not HUB/ID is refused", async () => {
    const alice = await makePerson("alice#im.alice.test");
    await expect(createGroup(alice.devices[0]!.me, "not a conversation")).rejects.toMatchObject({ code: "bad_request" });
  });
});
