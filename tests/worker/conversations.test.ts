import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/index.js";
import { DOMAIN, anotherDevice, befriend, call, errorOf, registered, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";
import { convItems, twoInConversation } from "./hub-groups.js";

async function create(owner: Device, members: Device[]): Promise<string> {
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: members.map((m) => m.address) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: string }).conversation;
}

function submit(d: Device, conv: string, body: Record<string, unknown>) {
  return call(d, "POST", `/conversations/${conv}/messages`, { id: randomId16(), ...body });
}

async function linkedDevice(owner: Device): Promise<Device> {
  const device = anotherDevice(owner);
  expect((await call(owner, "POST", "/account/devices", { deviceCert: device.cert })).status).toBe(201);
  return device;
}

describe("conversations", () => {
  it("creates a conversation hosted here and shows it to members only", async () => {
    const alice = await registered("ca");
    const bob = await registered("cb");
    const outsider = await registered("co");
    const conv = await create(alice, [bob]);
    expect(conv.startsWith(`${DOMAIN}/`)).toBe(true);
    const view = await call(bob, "GET", `/conversations/${conv}`);
    expect(await view.json()).toEqual({ conversation: conv, members: [alice.address, bob.address], epoch: 0, lastSeq: 0 });
    const denied = await call(outsider, "GET", `/conversations/${conv}`);
    expect(denied.status).toBe(403);
  });

  it("orders submissions with a monotonic seq and fans them out to every member", async () => {
    const alice = await registered("oa");
    const bob = await registered("ob");
    await befriend(alice, bob);
    const conv = await create(alice, [bob]);
    const group = await TestGroup.of(alice, conv);
    const added = await group.add([bob]);
    const commit = await submit(alice, conv, { epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address] } });
    expect(await commit.json()).toEqual({ accepted: true, seq: 1 });
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await submit(i % 2 ? alice : bob, conv, { epoch: 1, kind: "application", mls: await group.message() });
      expect(res.status).toBe(202);
      seqs.push(((await res.json()) as { seq: number }).seq);
    }
    expect(seqs).toEqual([2, 3, 4, 5, 6]);
    const entries = [
      [1, "commit"],
      [1, "welcome"],
      [2, "application"],
      [3, "application"],
      [4, "application"],
      [5, "application"],
      [6, "application"],
    ];
    // Each account's only device has the hub's answer for its own messages: no copy comes back.
    const got = await convItems(bob);
    expect(got.map((i) => [i.hubSeq, i.type])).toEqual(entries.filter(([seq]) => seq !== 2 && seq !== 4 && seq !== 6));
    const alices = await convItems(alice);
    expect(alices.map((i) => [i.hubSeq, i.type])).toEqual(entries.filter(([seq, type]) => type !== "welcome" && seq !== 3 && seq !== 5));
    expect(got[0]).toMatchObject({ conversation: conv, from: alice.address, deviceId: alice.deviceId, epoch: 0, members: [alice.address, bob.address] });
    expect(got[1]!.mls).toBe(added.welcome);
    const view = (await (await call(alice, "GET", `/conversations/${conv}`)).json()) as { epoch: number; lastSeq: number };
    expect(view).toMatchObject({ epoch: 1, lastSeq: 6 });
  });

  it("keeps an author's own messages in its mailbox once its second device is in the conversation", async () => {
    const { alice, bob, conv, group } = await twoInConversation("md", "mb");
    // Alice's only device: the hub learns it, and her own message goes to no mailbox of hers.
    expect(await (await submit(alice, conv, { epoch: 1, kind: "application", mls: await group.message() })).json()).toEqual({ accepted: true, seq: 2 });
    const laptop = await linkedDevice(alice);
    // Her phone adds the laptop to the group (a commit: the epoch moves on, the accounts stay).
    const added = await group.add([laptop]);
    await submit(alice, conv, { epoch: 1, kind: "commit", mls: added.commit, welcome: added.welcome });
    expect(await (await submit(alice, conv, { epoch: 2, kind: "application", mls: await group.message() })).json()).toEqual({ accepted: true, seq: 4 });
    expect((await convItems(laptop)).map((i) => [i.hubSeq, i.type, i.deviceId])).toEqual([
      [1, "commit", alice.deviceId],
      [3, "commit", alice.deviceId],
      [3, "welcome", alice.deviceId],
      [4, "application", alice.deviceId],
    ]);
    expect((await convItems(bob)).map((i) => [i.hubSeq, i.type])).toEqual([[1, "commit"], [1, "welcome"], [2, "application"], [3, "commit"], [3, "welcome"], [4, "application"]]);
  });

  it("gives the author's account its own message sent right after the commit adding its new device, in one burst", async () => {
    const { alice, conv, group } = await twoInConversation("mr", "mq");
    await submit(alice, conv, { epoch: 1, kind: "application", mls: await group.message() });
    const laptop = await linkedDevice(alice);
    // Taken together, the message after the commit is handed on with it, before her account is
    // asked again how many devices it has: what it said at the old epoch must not count.
    const before = await group.message();
    const added = await group.add([laptop]);
    const after = await group.message();
    const answers = await Promise.all([
      submit(alice, conv, { epoch: 1, kind: "application", mls: before }),
      submit(alice, conv, { epoch: 1, kind: "commit", mls: added.commit, welcome: added.welcome }),
      submit(alice, conv, { epoch: 2, kind: "application", mls: after }),
    ]);
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual([3, 4, 5].map((seq) => ({ accepted: true, seq })));
    expect((await convItems(laptop)).filter((i) => i.hubSeq >= 4).map((i) => [i.hubSeq, i.type])).toEqual([
      [4, "commit"],
      [4, "welcome"],
      [5, "application"],
    ]);
  });

  it("refuses a commit at a stale epoch and an application message from the future", async () => {
    const alice = await registered("ea");
    const conv = await create(alice, []);
    const group = await TestGroup.of(alice, conv);
    const lost = await group.commit(true);
    expect((await submit(alice, conv, { epoch: 0, kind: "commit", mls: await group.commit() })).status).toBe(202);
    const stale = await submit(alice, conv, { epoch: 0, kind: "commit", mls: lost });
    expect(stale.status).toBe(409);
    expect(await errorOf(stale)).toBe("stale_epoch");
    // The group moves on without telling the hub: its next message is of an epoch ahead of the hub's.
    await group.commit();
    const ahead = await submit(alice, conv, { epoch: 2, kind: "application", mls: await group.message() });
    expect(ahead.status).toBe(400);
  });

  it("accepts a resubmission with the same id once", async () => {
    const alice = await registered("ia");
    const bob = await registered("ib");
    await befriend(alice, bob);
    const conv = await create(alice, [bob]);
    const id = randomId16();
    const body = { id, epoch: 0, kind: "application", mls: await (await TestGroup.of(alice, conv)).message() };
    const first = await call(alice, "POST", `/conversations/${conv}/messages`, body);
    const again = await call(alice, "POST", `/conversations/${conv}/messages`, body);
    expect(await first.json()).toEqual({ accepted: true, seq: 1 });
    expect(await again.json()).toEqual({ accepted: true, seq: 1 });
    expect((await convItems(bob)).map((i) => i.id)).toEqual([id]);
  });

  it("refuses non-members, and removed members after the commit that removes them", async () => {
    const alice = await registered("ra");
    const bob = await registered("rb");
    const eve = await registered("re");
    await befriend(alice, bob);
    const conv = await create(alice, [bob]);
    const group = await TestGroup.of(alice, conv);
    const outsider = await submit(eve, conv, { epoch: 0, kind: "application", mls: await group.message() });
    expect(outsider.status).toBe(403);
    expect(await errorOf(outsider)).toBe("forbidden");
    expect((await submit(alice, conv, { epoch: 0, kind: "commit", mls: await group.commit(), roster: { remove: [bob.address] } })).status).toBe(202);
    expect((await convItems(bob)).map((i) => i.members)).toEqual([[alice.address]]);
    expect((await submit(bob, conv, { epoch: 1, kind: "application", mls: await group.message() })).status).toBe(403);
  });

  it("bounces to the sender what a stranger-refusing member will not take", async () => {
    const alice = await registered("sa");
    const shy = await registered("ss");
    await call(shy, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    const conv = await create(alice, [shy]);
    const res = await submit(alice, conv, { epoch: 0, kind: "application", mls: await (await TestGroup.of(alice, conv)).message() });
    expect(res.status).toBe(202);
    expect(await convItems(shy)).toEqual([]);
    const mail = (await (await call(alice, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] };
    expect(mail.items.filter((i) => i.kind === "bounce")).toMatchObject([{ kind: "bounce", to: shy.address, error: "stranger_refused", conversation: conv }]);
  });

  it("lets group members who are not friends reach each other once a friend brought them in", async () => {
    const alice = await registered("ga");
    const bob = await registered("gb");
    const carol = await registered("gc");
    await call(bob, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    await befriend(bob, alice);
    await befriend(alice, carol);
    const conv = await create(alice, [bob, carol]);
    const group = await TestGroup.of(alice, conv);
    const added = await group.add([bob, carol]);
    await submit(alice, conv, { epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address, carol.address] } });
    expect((await submit(carol, conv, { epoch: 1, kind: "application", mls: await group.message() })).status).toBe(202);
    expect((await convItems(bob)).map((i) => [i.from, i.type])).toContainEqual([carol.address, "application"]);
  });
});
