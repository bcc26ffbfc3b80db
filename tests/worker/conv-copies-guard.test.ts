import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, ConvPayload, FedItem, MailItem } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";
import { DOMAIN, PEER, accountStub, call, newDevice, registered, sendFederated, trustedPeer } from "./harness.js";

/*
 * However a hub's entries cross to the Account object and into its mailbox rows (packed, shared,
 * copied once), each mailbox copy is the hub's payload itself: every field of every entry type
 * (a commit's members, a withdrawal's withdraws, a rejoin's empty mls), in hub order, whatever
 * the entries around it. Only `seq` and `at` are the mailbox's own (PROTOCOL §6).
 */

describe("a hub's entries of every type, in one batch", () => {
  it("reach the mailbox field for field, in hub order", async () => {
    const bob = await registered("ccg");
    const remote = newDevice("ccgfar", PEER);
    const other = newDevice("ccgoth", PEER);
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
    });
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    let hubSeq = 0;
    const entry = (type: ConvPayload["type"], extra: Partial<ConvPayload> = {}, author = remote, mls = "AAEC"): ConvPayload =>
      ({ conversation, id: randomId16(), hubSeq: ++hubSeq, from: author.address, deviceId: author.deviceId, epoch: 3, type, mls, at: Date.now() - hubSeq, ...extra }) as ConvPayload;
    const commit = entry("commit", { members: [remote.address, bob.address, other.address] });
    const payloads: ConvPayload[] = [
      entry("application"),
      entry("proposal", {}, other, "AAECAw"),
      commit,
      { ...commit, type: "welcome", mls: "BBBB" },
      entry("application", {}, other),
      entry("withdrawn", { members: [remote.address, bob.address], withdraws: [{ id: commit.id, hubSeq: commit.hubSeq }] }, remote, ""),
      entry("rejoin", {}, other, ""),
      entry("application", { epoch: 4 }),
    ];
    const items = payloads.map((item): FedItem => ({ id: fedItemId(item, DOMAIN), kind: "conv_deliver", conversation, to: [bob.address], item }));
    expect(await sendFederated(await trustedPeer(), items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    const page = ((await (await call(bob, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
    const copies = page.filter((i) => i.kind === "conv").map(({ seq: _seq, at: _at, ...rest }) => rest);
    expect(copies).toEqual(payloads.map(({ at: _at, ...rest }) => ({ kind: "conv", ...rest })));
  });
});
