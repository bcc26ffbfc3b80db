import { describe, expect, it } from "vitest";
import { runInDurableObject } from "cloudflare:test";
import type { Address } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, MailItem } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";
import { DOMAIN, PEER, accountStub, call, newDevice, registered, sendFederated, trustedPeer } from "./harness.js";
import { post, threeMembers } from "./hub-groups.js";

/*
 * However a mailbox row's text is made (stringified, or put together from the entry's own JSON
 * text), it is what a device reads: one JSON array of items, each key once, each item numbered in
 * turn up to the row's seq, with the mailbox's own `at` (when it arrived, PROTOCOL §6), never the
 * hub's; what the polled page and the socket give is that text's items.
 */

type Row = { seq: number; n: number; at: number; content: string };

async function rowsOf(address: Address): Promise<Row[]> {
  return runInDurableObject(accountStub(address), (_i, state) => state.storage.sql.exec<Row>("SELECT seq, n, at, content FROM mailbox ORDER BY seq").toArray());
}

async function page(address: Parameters<typeof call>[0]): Promise<MailItem[]> {
  return ((await (await call(address, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

/** Each row's text as JSON.stringify makes it (no key twice), its items numbered up to its seq and dated by the row. */
function expectSound(rows: Row[]): MailItem[] {
  const items: MailItem[] = [];
  for (const row of rows) {
    const parsed = JSON.parse(row.content) as MailItem[];
    expect(row.content).toBe(JSON.stringify(parsed));
    expect(parsed.map((i) => i.seq)).toEqual(Array.from({ length: row.n }, (_, k) => row.seq - row.n + 1 + k));
    for (const item of parsed) expect(item.at).toBe(row.at);
    items.push(...parsed);
  }
  return items;
}

describe("a mailbox's rows of a hub's entries", () => {
  it("on one domain: a commit, its Welcome and messages are one JSON text a row, dated by the mailbox, as the page gives them", async () => {
    const { alice, bob, carol, conv, group } = await threeMembers("mrg");
    for (let i = 0; i < 3; i++) expect((await post(alice, conv, { epoch: 1, kind: "application", mls: await group.message() })).status).toBe(202);
    expect((await post(alice, conv, { epoch: 1, kind: "commit", mls: await group.commit() })).status).toBe(202);
    expect((await post(alice, conv, { epoch: 2, kind: "application", mls: await group.message() })).status).toBe(202);
    for (const member of [bob, carol]) {
      const stored = expectSound(await rowsOf(member.address));
      expect(stored).toEqual(await page(member));
      expect(stored.filter((i) => i.kind === "conv").map((i) => (i.kind === "conv" ? `${i.hubSeq} ${i.type}` : ""))).toEqual([
        "1 commit", "1 welcome", "2 application", "3 application", "4 application", "5 commit", "6 application",
      ]);
    }
  });

  it("from another domain: entries whose keys come in any order are stored each key once, with the mailbox's at", async () => {
    const bob = await registered("mrf");
    const remote = newDevice("mrffar", PEER);
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
    });
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const hubAt = Date.now() - 86_400_000;
    const last = (hubSeq: number) => ({ conversation, id: randomId16(), hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: hubAt });
    const first = (hubSeq: number) => ({ at: hubAt, mls: "AAEC", type: "application" as const, epoch: 1, deviceId: remote.deviceId, from: remote.address, hubSeq, id: randomId16(), conversation });
    const payloads = [last(1), first(2), last(3), first(4)];
    const items = payloads.map((item) => ({ id: fedItemId(item, DOMAIN), kind: "conv_deliver" as const, conversation, to: [bob.address], item }));
    expect(await sendFederated(await trustedPeer(), items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    const stored = expectSound(await rowsOf(bob.address));
    expect(stored).toEqual(await page(bob));
    expect(stored.map((i) => (i.kind === "conv" ? i.hubSeq : 0))).toEqual([1, 2, 3, 4]);
    for (const item of stored) expect(item.at).toBeGreaterThan(hubAt + 3_600_000);
  });
});
