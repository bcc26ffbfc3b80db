import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/index.js";
import { PEER, anotherDevice, befriend, call, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

// A member device left behind its group (its veto refused, say) asks to be let back in (PROTOCOL §8,
// Rejoining): the hub orders a `rejoin` entry that reaches every member, whose in-step devices re-add
// it. The hub decides only who may ask and how often.

type ConvItem = Extract<MailItem, { kind: "conv" }>;

async function conversation(owner: Device, members: Device[]): Promise<string> {
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: members.map((m) => m.address) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: string }).conversation;
}

function rejoin(d: Device, conv: string, id = randomId16(), epoch = 1): Promise<Response> {
  return call(d, "POST", `/conversations/${conv}/rejoin`, { id, epoch });
}

async function answer(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function convItems(d: Device): Promise<ConvItem[]> {
  const page = (await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
  return page.items.filter((i): i is ConvItem => i.kind === "conv");
}

async function hubState(d: Device, conv: string): Promise<{ epoch: number; members: string[]; lastSeq: number }> {
  return (await (await call(d, "GET", `/conversations/${conv}`)).json()) as { epoch: number; members: string[]; lastSeq: number };
}

/** Alice, Bob and Carol in Alice's group (the hub at epoch 1). */
async function threeMembers(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  const carol = await registered(`${prefix}c`);
  await befriend(alice, bob);
  await befriend(alice, carol);
  const conv = await conversation(alice, [bob, carol]);
  const group = await TestGroup.of(alice, conv);
  const added = await group.add([bob, carol]);
  const res = await call(alice, "POST", `/conversations/${conv}/messages`, { id: randomId16(), epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address, carol.address] } });
  expect(res.status).toBe(202);
  return { alice, bob, carol, conv };
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
