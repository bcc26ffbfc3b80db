import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { PEER, anotherDevice, call, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";
import { answer, conversation, convItems, hubState, threeMembers } from "./hub-groups.js";

// A member device left behind its group (its veto refused, say) asks to be let back in (PROTOCOL §8,
// Rejoining): the hub orders a `rejoin` entry that reaches every member, whose in-step devices re-add
// it. The hub decides only who may ask and how often.

function rejoin(d: Device, conv: string, id = randomId16(), epoch = 1): Promise<Response> {
  return call(d, "POST", `/conversations/${conv}/rejoin`, { id, epoch });
}

describe("a member device's ask to be let back in", { timeout: 30_000 }, () => {
  it("is ordered as a rejoin entry at the hub's epoch that every member gets, the asker's account too; the epoch and members stay", async () => {
    const { alice, bob, carol, conv } = await threeMembers("rj");
    const id = randomId16();
    const asked = await answer(await rejoin(bob, conv, id));
    expect(asked).toMatchObject({ status: 202, body: { accepted: true } });
    const seq = asked.body.seq as number;
    for (const member of [alice, bob, carol]) {
      expect((await convItems(member)).at(-1)).toMatchObject({ type: "rejoin", id, hubSeq: seq, epoch: 1, mls: "", from: bob.address, deviceId: bob.deviceId });
    }
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, members: [alice.address, bob.address, carol.address] });
    // Asked again with the same id (its answer lost): the same position, nothing ordered twice.
    expect(await answer(await rejoin(bob, conv, id))).toMatchObject({ status: 202, body: { seq } });
    expect((await hubState(alice, conv)).lastSeq).toBe(seq);
    // An id someone else used is taken.
    expect(await answer(await rejoin(carol, conv, id))).toMatchObject({ status: 409, body: { error: "conflict" } });
  });

  it("is refused from an account that is no member, before anything of the log is answered", async () => {
    const { bob, conv } = await threeMembers("rn");
    const id = randomId16();
    expect((await rejoin(bob, conv, id)).status).toBe(202);
    const outsider = await registered("rno");
    expect(await answer(await rejoin(outsider, conv))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    // Naming a member's ask gets an outsider no position either.
    expect(await answer(await rejoin(outsider, conv, id))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect(await answer(await call(bob, "POST", `/conversations/${conv}/rejoin`, { id: randomId16(), epoch: -1 }))).toMatchObject({ status: 400, body: { error: "bad_request" } });
  });

  it("takes at most eight a day from one account, whichever its device", async () => {
    const { alice, bob, conv } = await threeMembers("rl");
    for (let i = 0; i < 8; i++) expect((await rejoin(bob, conv)).status).toBe(202);
    expect(await answer(await rejoin(bob, conv))).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    const second = anotherDevice(bob);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: second.cert })).status).toBe(201);
    expect(await answer(await rejoin(second, conv))).toMatchObject({ status: 429, body: { error: "rate_limited" } });
    // Another account's budget is its own.
    expect((await rejoin(alice, conv)).status).toBe(202);
  });

  it("comes from a member on another domain as a conv_rejoin its server passes on, for its own users only, counted by account", async () => {
    const peer = await trustedPeer();
    const alice = await registered("rfa");
    const remote = newDevice("rfb", PEER);
    const conv = await conversation(alice, [remote]);
    const group = await TestGroup.of(alice, conv);
    expect((await call(alice, "POST", `/conversations/${conv}/messages`, { id: randomId16(), epoch: 0, kind: "commit", mls: await group.commit() })).status).toBe(202);
    const item = (from: string, deviceId = remote.deviceId, id = randomId16()) => ({ id, kind: "conv_rejoin" as const, conversation: conv, from, deviceId, rejoin: { id, epoch: 0 } });
    expect(await sendFederated(peer, [item(alice.address) as never])).toMatchObject([{ error: "forbidden" }]);
    expect(await sendFederated(peer, [item(remote.address) as never])).toMatchObject([{ ok: true }]);
    expect((await convItems(alice)).at(-1)).toMatchObject({ type: "rejoin", from: remote.address, deviceId: remote.deviceId, epoch: 1 });
    // New device ids are its server's word: they share the account's budget.
    for (let i = 0; i < 7; i++) expect(await sendFederated(peer, [item(remote.address, randomId16()) as never])).toMatchObject([{ ok: true }]);
    expect(await sendFederated(peer, [item(remote.address, randomId16()) as never])).toMatchObject([{ error: "rate_limited" }]);
  });
});
