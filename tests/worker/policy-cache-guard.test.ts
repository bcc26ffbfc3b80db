import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";
import { DOMAIN, accountStub, befriend, call, enc, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

/*
 * Whatever an account keeps in memory to admit a burst cheaply (friend states, joined
 * conversations, settings), a change of policy takes effect on the very next item (PROTOCOL §9):
 * a stranger refused once the policy says so and taken again once it does not, a blocked friend
 * refused even in a conversation the account takes part in, an unfriended one a stranger, on the
 * federated path and on one domain.
 */

const HUB = "im.policyguard.test" as Domain;

async function friendOf(local: Device): Promise<Device> {
  const remote = newDevice("far", HUB);
  await runInDurableObject(accountStub(local.address), (_i, state) => {
    state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
  });
  return remote;
}

let hubSeq = 0;
/**
 * One entry of `conversation` by `author` for `to`, sent alone in its own batch: whether it reached
 * `to`'s mailbox (a refusal is a bounce to the author, the hub's item itself is taken).
 */
async function deliver(conversation: ConversationRef, author: Device, to: Device): Promise<boolean> {
  const before = await convCount(to);
  const item = { conversation, id: randomId16(), hubSeq: ++hubSeq, from: author.address, deviceId: author.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
  const fed: FedItem = { id: fedItemId(item, DOMAIN), kind: "conv_deliver", conversation, to: [to.address], item };
  expect(await sendFederated(await trustedPeer(HUB), [fed])).toEqual([{ id: fed.id, ok: true }]);
  return (await convCount(to)) > before;
}

async function convCount(d: Device): Promise<number> {
  const items = ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
  return items.filter((i) => i.kind === "conv").length;
}

const conv = () => `${HUB}/${randomId16()}` as ConversationRef;
const settings = (d: Device, strangers: string) => call(d, "PUT", "/account/settings", { strangers, retentionDays: null });

describe("an account's admission after a change of policy", () => {
  it("refuses a stranger's next item once strangers are refused, and takes one again once they are accepted", async () => {
    const bob = await registered("pgs");
    const stranger = newDevice("stranger", HUB);
    const [c1, c2] = [conv(), conv()];
    expect(await deliver(c1, stranger, bob)).toBe(true);
    expect((await settings(bob, "refuse")).status).toBe(200);
    expect(await deliver(c1, stranger, bob)).toBe(false);
    expect(await deliver(c2, stranger, bob)).toBe(false);
    expect((await settings(bob, "accept")).status).toBe(200);
    expect(await deliver(c1, stranger, bob)).toBe(true);
    expect(await convCount(bob)).toBe(2);
  });

  it("refuses a friend blocked since, even in a conversation joined through them, and treats one unfriended as a stranger", async () => {
    const bob = await registered("pgb");
    const [blocked, dropped] = [await friendOf(bob), await friendOf(bob)];
    expect((await settings(bob, "refuse")).status).toBe(200);
    const [c1, c2, c3] = [conv(), conv(), conv()];
    expect(await deliver(c1, blocked, bob)).toBe(true);
    expect(await deliver(c2, dropped, bob)).toBe(true);
    expect((await call(bob, "POST", `/friends/${enc(blocked.address)}/block`)).status).toBe(204);
    expect(await deliver(c1, blocked, bob)).toBe(false);
    expect((await call(bob, "DELETE", `/friends/${enc(dropped.address)}`)).status).toBe(204);
    expect(await deliver(c3, dropped, bob)).toBe(false);
    // A conversation the account joined stays open to its members, as before the change.
    expect(await deliver(c2, dropped, bob)).toBe(true);
    expect(await convCount(bob)).toBe(3);
  });

  it("on one domain: a member blocked since gets nothing more into the account's mailbox", async () => {
    const alice = await registered("pgla");
    const bob = await registered("pglb");
    await befriend(alice, bob);
    const res = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await res.json()) as { conversation: string };
    const mls = await (await TestGroup.of(alice, conversation)).message();
    const post = () => call(alice, "POST", `/conversations/${conversation}/messages`, { id: randomId16(), epoch: 0, kind: "application", mls });
    expect((await post()).status).toBe(202);
    expect(await convCount(bob)).toBe(1);
    expect((await call(bob, "POST", `/friends/${enc(alice.address)}/block`)).status).toBe(204);
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
    expect(await convCount(bob)).toBe(1);
  });
});
