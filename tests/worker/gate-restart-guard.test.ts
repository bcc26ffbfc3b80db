import { describe, expect, it } from "vitest";
import { SELF, env, runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";
import { DOMAIN, accountStub, call, enc, errorOf, federationRequest, friendRequest, newDevice, registered, sendFederated, signedRequest, trustedPeer, type Device } from "./harness.js";

/*
 * What the Gates keep (PROTOCOL §5, §7) is what stops a replay and a repeat, so it must outlive
 * the object that holds it: a signature used once stays refused after its gate restarted, and a
 * federation item sent again after the gate (and the account it went to) restarted gets its first
 * answer, applied once, whatever changed meanwhile. A gate that kept nonces or results in memory
 * only, or answered from a cache that a restart empties, would fail these.
 */

const PEER = "im.gaterestart.test" as Domain;

/** Ends an object: the next call (through a new stub) gets a new instance over the same storage. */
async function restart(stub: () => DurableObjectStub): Promise<void> {
  await runInDurableObject(stub(), (instance, state) => {
    (instance as unknown as { before?: true }).before = true;
    state.abort("restart");
  }).catch(() => undefined);
  expect(await runInDurableObject(stub(), (instance) => (instance as unknown as { before?: true }).before)).toBeUndefined();
}

const gate = (name: string) => () => env.GATE.get(env.GATE.idFromName(name));

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

describe("replay and repeat state across a gate's restart", () => {
  it("refuses a peer's batch sent again with the same signature nonce after the peer's gate restarted", async () => {
    const peer = await trustedPeer(PEER);
    const bob = await registered("grn");
    const signed = friendRequest(newDevice("far", PEER), bob.address);
    const body = { items: [{ id: signed.body.id, kind: "friend_request", signed }] };
    const nonce = randomId16();
    expect((await SELF.fetch(federationRequest(peer, "/inbox", body, { nonce }))).status).toBe(200);
    await restart(gate(`peer:${PEER}`));
    const replayed = await SELF.fetch(federationRequest(peer, "/inbox", body, { nonce }));
    expect(replayed.status).toBe(401);
    expect(await errorOf(replayed)).toBe("unauthorized");
    expect((await mail(bob)).filter((i) => i.kind === "friend_request")).toHaveLength(1);
  });

  it("refuses a device's request sent again with the same nonce after its account's gate restarted", async () => {
    const alice = await registered("grd");
    const nonce = randomId16();
    expect((await SELF.fetch(signedRequest(alice, "GET", "/mailbox?after=0", undefined, { nonce }))).status).toBe(200);
    await restart(gate(`account:${alice.address}`));
    const replayed = await SELF.fetch(signedRequest(alice, "GET", "/mailbox?after=0", undefined, { nonce }));
    expect(replayed.status).toBe(401);
    expect(await errorOf(replayed)).toBe("unauthorized");
  });

  it("answers a hub's entries sent again after a block and a restart of the gate and the account with their first results: stored once, not bounced", async () => {
    const peer = await trustedPeer(PEER);
    const bob = await registered("grb");
    const remote = newDevice("author", PEER);
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
    });
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const items = [1, 2].map((hubSeq): FedItem => {
      const item = { conversation, id: randomId16(), hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
      return { id: fedItemId(item, DOMAIN), kind: "conv_deliver", conversation, to: [bob.address], item };
    });
    const first = await sendFederated(peer, items);
    expect(first).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect((await call(bob, "POST", `/friends/${enc(remote.address)}/block`)).status).toBe(204);
    await restart(gate(`peer:${PEER}`));
    await restart(() => accountStub(bob.address));
    expect(await sendFederated(peer, [items[1]!, items[0]!])).toEqual([first[1], first[0]]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2]);
    const bounced = await runInDurableObject(env.OUTBOX.get(env.OUTBOX.idFromName(PEER)), (_i, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue WHERE json_extract(item, '$.kind') = 'bounce'").one().n,
    ).catch(() => 0);
    expect(bounced).toBe(0);
  });

  it("keeps an emptied bucket empty after its gate restarted: a restart gives no tokens back", async () => {
    const subject = `grb#${DOMAIN}`;
    const take = { keyId: "", nonce: "", limits: [{ scope: "account" as const, subject }] };
    const stub = gate(`account:${subject}`);
    const allowed = async (n: number) => {
      let count = 0;
      for (let i = 0; i < n; i++) {
        const answer = await stub().admit(take);
        if (answer.ok && answer.value.wait === null) count++;
      }
      return count;
    };
    // The worker tests' account bucket holds 60 tokens and refills one a second.
    expect(await allowed(70)).toBeGreaterThanOrEqual(60);
    await restart(stub);
    // A full bucket would let all 20 through; an empty one only what refilled meanwhile.
    expect(await allowed(20)).toBeLessThan(5);
  });
});
