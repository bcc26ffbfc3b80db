import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { PEER, anotherDevice, befriend, call, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";
import { answer, conversation, convItems, hubState, post, threeMembers } from "./hub-groups.js";

// A member's commit that others cannot process would leave the hub at an epoch they never reach,
// every later message of theirs stale_epoch. A member device's veto withdraws the latest commit
// (PROTOCOL §8, Vetoes): the hub's epoch and members go back, and everyone the commit reached hears.

function veto(d: Device, conv: string, body: { epoch: number; hubSeq: number }, id = randomId16()): Promise<Response> {
  return call(d, "POST", `/conversations/${conv}/veto`, { id, epoch: body.epoch, hubSeq: body.hubSeq });
}

/**
 * A commit at the hub's epoch (the hub cannot tell it from garbage), and its position; with `keep`,
 * the test's group stays where it was, as for members who cannot process it.
 */
async function commitBy(d: Device, conv: string, group: TestGroup, roster?: { add?: string[]; remove?: string[] }, keep = true): Promise<{ id: string; hubSeq: number; epoch: number }> {
  const id = randomId16();
  const epoch = group.epoch;
  const res = await post(d, conv, { epoch, kind: "commit", mls: await group.commit(keep), ...(roster ? { roster } : {}) }, id);
  expect(res.status).toBe(202);
  return { id, hubSeq: ((await res.json()) as { seq: number }).seq, epoch };
}

describe("a member's veto of one of the latest commits", { timeout: 30_000 }, () => {
  it("withdraws it: the hub's epoch and members go back, everyone it reached is told, and messages at the old epoch are taken again", async () => {
    const { alice, bob, carol, conv, group } = await threeMembers("vw");
    // Bob's commit takes Carol out; Alice cannot process it (say its ciphertext is garbage).
    const commit = await commitBy(bob, conv, group, { remove: [carol.address] }, false);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 2, members: [alice.address, bob.address] });
    expect(await answer(await post(alice, conv, { epoch: 1, kind: "application", mls: await group.message("hi", 1) }))).toMatchObject({ status: 409, body: { error: "stale_epoch" } });
    // Carol, whom it removes, cannot veto it.
    expect(await answer(await veto(carol, conv, commit))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    const vetoId = randomId16();
    const withdrawn = await answer(await veto(alice, conv, commit, vetoId));
    expect(withdrawn).toMatchObject({ status: 202, body: { accepted: true } });
    const seq = withdrawn.body.seq as number;
    expect(seq).toBe(commit.hubSeq + 1);
    expect((await hubState(alice, conv)).epoch).toBe(1);
    expect((await hubState(carol, conv)).members.sort()).toEqual([alice.address, bob.address, carol.address].sort());
    // Each member, Carol included, hears which commit went, right after it.
    for (const member of [bob, carol]) {
      const items = await convItems(member);
      expect(items.at(-1)).toMatchObject({ type: "withdrawn", hubSeq: seq, epoch: 1, mls: "", from: alice.address, deviceId: alice.deviceId, withdraws: [{ id: commit.id, hubSeq: commit.hubSeq }] });
    }
    // The old epoch is the hub's again; the withdrawn one is stale for whoever sent at it.
    expect((await post(bob, conv, { epoch: 1, kind: "application", mls: await group.message("hi", 1) })).status).toBe(202);
    expect(await answer(await post(bob, conv, { epoch: 2, kind: "application", mls: await group.message() }))).toMatchObject({ status: 409, body: { error: "stale_epoch" } });
    // A repeat of the veto, or another member's veto of the same commit, gets the withdrawal's position; nothing is withdrawn twice.
    expect(await answer(await veto(alice, conv, commit, vetoId))).toMatchObject({ status: 202, body: { seq } });
    expect(await answer(await veto(carol, conv, commit))).toMatchObject({ status: 202, body: { seq } });
    expect((await hubState(alice, conv)).epoch).toBe(1);
    // Someone outside the group learns nothing of its log by naming the same commit.
    const outsider = await registered("vwo");
    expect(await answer(await veto(outsider, conv, commit))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    // The commit before it is not the latest, and was never vetoable again: the group cannot be rewound further.
    expect(await answer(await veto(bob, conv, { epoch: 0, hubSeq: 1 }))).toMatchObject({ status: 409, body: { error: "conflict" } });
  });

  it("is refused from the commit's own device, a non-member, an account the commit added, for any commit but the latest, and for the group's first", async () => {
    const { alice, bob, carol, conv, group } = await threeMembers("vr");
    expect(await answer(await veto(bob, conv, { epoch: 0, hubSeq: 1 }))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    const dave = await registered("vrd");
    await befriend(alice, dave);
    const adding = await commitBy(alice, conv, group, { add: [dave.address] }, false);
    const outsider = await registered("vro");
    expect(await answer(await veto(alice, conv, adding))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect(await answer(await veto(outsider, conv, adding))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect(await answer(await veto(dave, conv, adding))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    // Named wrong (another epoch or position) is no veto of the latest commit.
    expect(await answer(await veto(bob, conv, { epoch: 2, hubSeq: adding.hubSeq }))).toMatchObject({ status: 409, body: { error: "conflict" } });
    const next = await commitBy(carol, conv, group);
    expect(await answer(await veto(bob, conv, adding))).toMatchObject({ status: 409, body: { error: "conflict" } });
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 3 });
    // Another device of the committer's account is a member device like any other.
    const second = anotherDevice(carol);
    expect((await call(carol, "POST", "/account/devices", { deviceCert: second.cert })).status).toBe(201);
    expect((await veto(second, conv, next)).status).toBe(202);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 2 });
    expect((await hubState(alice, conv)).members).toContain(dave.address);
    // Malformed: refused at the edge.
    expect(await answer(await call(bob, "POST", `/conversations/${conv}/veto`, { id: randomId16(), epoch: -1, hubSeq: 1 }))).toMatchObject({ status: 400, body: { error: "bad_request" } });
  });

  it("names a commit followed only by its account's commits, which it withdraws with it: two commits in a row do not put the first out of reach", async () => {
    const { alice, bob, carol, conv, group } = await threeMembers("vn");
    const first = await commitBy(carol, conv, group, undefined, false);
    const second = await commitBy(carol, conv, group, undefined, false);
    expect((await hubState(alice, conv)).epoch).toBe(3);
    const withdrawn = await answer(await veto(bob, conv, first));
    expect(withdrawn).toMatchObject({ status: 202 });
    expect((await hubState(alice, conv)).epoch).toBe(1);
    expect((await convItems(alice)).at(-1)).toMatchObject({ type: "withdrawn", epoch: 1, withdraws: [{ id: first.id, hubSeq: first.hubSeq }, { id: second.id, hubSeq: second.hubSeq }] });
    // Both withdrawn epochs are stale for whoever sent at them.
    for (const epoch of [2, 3]) {
      expect(await answer(await post(alice, conv, { epoch, kind: "application", mls: await group.message("late", epoch) }))).toMatchObject({ status: 409, body: { error: "stale_epoch" } });
    }
    // A veto of the second names a commit withdrawn already: the same answer, nothing more undone.
    expect(await answer(await veto(alice, conv, second))).toMatchObject({ status: 202, body: { seq: withdrawn.body.seq } });
    // Past the four commits a hub keeps, the oldest is out of reach. (A group of the same id, at the
    // hub's epoch again, makes headers the hub takes.)
    const again = await TestGroup.of(carol, conv);
    await again.commit();
    const run = [];
    for (let i = 0; i < 5; i++) run.push(await commitBy(carol, conv, again, undefined, false));
    expect(await answer(await veto(bob, conv, run[0]!))).toMatchObject({ status: 409, body: { error: "conflict" } });
    expect((await veto(bob, conv, run[1]!)).status).toBe(202);
    expect((await hubState(alice, conv)).epoch).toBe(2);
  });

  it("takes at most three from one account a day, whichever its device", async () => {
    const { alice, bob, conv, group } = await threeMembers("vl");
    for (let i = 0; i < 3; i++) {
      const commit = await commitBy(alice, conv, group);
      expect((await veto(bob, conv, commit)).status).toBe(202);
    }
    const fourth = await commitBy(alice, conv, group);
    expect(await answer(await veto(bob, conv, fourth))).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    // The limit is the account's: another device of Bob's gets no more.
    const second = anotherDevice(bob);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: second.cert })).status).toBe(201);
    expect(await answer(await veto(second, conv, fourth))).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    expect((await hubState(alice, conv)).epoch).toBe(2);
  });

  it("counts a remote member's vetoes by account: its server cannot name new device ids to veto without end", async () => {
    const peer = await trustedPeer();
    const alice = await registered("vda");
    const remote = newDevice("vdb", PEER);
    const conv = await conversation(alice, [remote]);
    const group = await TestGroup.of(alice, conv);
    expect((await post(alice, conv, { epoch: 0, kind: "commit", mls: await group.commit() })).status).toBe(202);
    const vetoFrom = async (deviceId: string) => {
      const commit = await commitBy(alice, conv, group);
      const id = randomId16();
      return sendFederated(peer, [{ id, kind: "conv_veto", conversation: conv, from: remote.address, deviceId, veto: { id, epoch: commit.epoch, hubSeq: commit.hubSeq } } as never]);
    };
    for (let i = 0; i < 3; i++) expect(await vetoFrom(randomId16())).toMatchObject([{ ok: true }]);
    expect(await vetoFrom(randomId16())).toMatchObject([{ error: "rate_limited" }]);
    expect((await hubState(alice, conv)).epoch).toBe(2);
  });

  it("comes from a member on another domain as a conv_veto its server passes on", async () => {
    const peer = await trustedPeer();
    const alice = await registered("vfa");
    const remote = newDevice("vfb", PEER);
    const conv = await conversation(alice, [remote]);
    const group = await TestGroup.of(alice, conv);
    expect((await post(alice, conv, { epoch: 0, kind: "commit", mls: await group.commit() })).status).toBe(202);
    const commit = await commitBy(alice, conv, group);
    const item = (from: string, id = randomId16()) => ({ id, kind: "conv_veto" as const, conversation: conv, from, deviceId: remote.deviceId, veto: { id, epoch: commit.epoch, hubSeq: commit.hubSeq } });
    // A server speaks for its own users only.
    expect(await sendFederated(peer, [item(alice.address) as never])).toMatchObject([{ error: "forbidden" }]);
    expect(await sendFederated(peer, [item(remote.address) as never])).toMatchObject([{ ok: true }]);
    expect((await hubState(alice, conv)).epoch).toBe(1);
  });
});
