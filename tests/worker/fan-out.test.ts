import { describe, expect, it } from "vitest";
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem, SessionServerFrame } from "../../shared/wire/index.js";
import { API, PEER, accountStub, befriend, call, friendRequest, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

// Bursts: the hub orders submissions that arrive together in one round and hands each member
// its share in one call. What a member sees must not change: every entry once, in hub order.

/** A conversation of `owner` and `members`, at epoch 1 (its first commit added them), and its MLS group. */
async function group(owner: Device, members: Device[]): Promise<{ conv: string; mls: TestGroup }> {
  for (const m of members) await befriend(owner, m);
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: members.map((m) => m.address) });
  const { conversation } = (await res.json()) as { conversation: string };
  const mls = await TestGroup.of(owner, conversation);
  const added = await mls.add(members);
  const commit = await call(owner, "POST", `/conversations/${conversation}/messages`, {
    id: randomId16(), epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: members.map((m) => m.address) },
  });
  expect(commit.status).toBe(202);
  return { conv: conversation, mls };
}

async function messages(group: TestGroup, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(await group.message(`message ${i}`));
  return out;
}

async function applications(d: Device): Promise<Extract<MailItem, { kind: "conv" }>[]> {
  const page = (await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
  return page.items.filter((i): i is Extract<MailItem, { kind: "conv" }> => i.kind === "conv" && i.type === "application");
}

describe("fan-out of bursts", () => {
  it("delivers a burst of concurrent submissions to every local member once, in hub order", async () => {
    const alice = await registered("fba");
    const bob = await registered("fbb");
    const carol = await registered("fbc");
    const { conv, mls } = await group(alice, [bob, carol]);
    const ids = Array.from({ length: 30 }, () => randomId16());
    const sent = await messages(mls, ids.length);
    const answers = await Promise.all(
      ids.map((id, i) => call(alice, "POST", `/conversations/${conv}/messages`, { id, epoch: 1, kind: "application", mls: sent[i] })),
    );
    const seqs = await Promise.all(answers.map(async (r) => ((await r.json()) as { seq: number }).seq));
    expect(new Set(seqs).size).toBe(30);
    // Answered only once fanned out: both members hold the whole burst already.
    for (const member of [bob, carol]) {
      const got = await applications(member);
      expect(got.map((i) => i.hubSeq)).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(got.map((i) => i.id))).toEqual(new Set(ids));
    }
  });

  it("acknowledges a burst of session frames in order and delivers each entry once", async () => {
    const alice = await registered("fsa");
    const bob = await registered("fsb");
    const { conv, mls } = await group(alice, [bob]);
    const ticket = await call(alice, "POST", "/sessions/ticket", { conversation: conv });
    const signed = ((await ticket.json()) as { ticket: unknown }).ticket;
    const res = await SELF.fetch(`${API}/conversations/${conv}/session?ticket=${toB64u(new TextEncoder().encode(jcs(signed)))}`, {
      headers: { upgrade: "websocket" },
    });
    const ws = res.webSocket!;
    ws.accept();
    const acks: Extract<SessionServerFrame, { t: "ack" }>[] = [];
    const allAcked = new Promise<void>((resolve) => {
      ws.addEventListener("message", (e) => {
        const f = JSON.parse(e.data as string) as SessionServerFrame;
        if (f.t === "ack") acks.push(f);
        if (acks.length === 40) resolve();
      });
    });
    const ids = Array.from({ length: 40 }, () => randomId16());
    const sent = await messages(mls, ids.length);
    ids.forEach((id, i) => ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: 1, kind: "application", mls: sent[i] } })));
    await allAcked;
    expect(acks.map((a) => a.id)).toEqual(ids);
    expect(acks.map((a) => a.seq)).toEqual(ids.map((_, i) => acks[0]!.seq + i));
    // The fan-out follows the acknowledgements; wait for it as a member's device would.
    let got: Extract<MailItem, { kind: "conv" }>[] = [];
    for (let i = 0; i < 50 && got.length < 40; i++) {
      got = await applications(bob);
      if (got.length < 40) await new Promise((r) => setTimeout(r, 20));
    }
    expect(got.map((i) => i.id)).toEqual(ids);
    ws.close(1000, "done");
  });

  it("hands local members their copies while another domain has not taken the entries before", async () => {
    const alice = await registered("fla");
    const carol = await registered("flc");
    await befriend(alice, carol);
    // A friend on another domain, as the two servers would have made them after an accepted request.
    const far = newDevice("flf", PEER);
    const signed = friendRequest(far, alice.address);
    expect(await sendFederated(await trustedPeer(), [{ id: signed.body.id, kind: "friend_request", signed }])).toMatchObject([{ ok: true }]);
    await runInDurableObject(accountStub(alice.address), (_i, state) => {
      state.storage.sql.exec("UPDATE friends SET state = 'friend' WHERE address = ?", far.address);
    });
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [carol.address, far.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const mls = await TestGroup.of(alice, conversation);
    // The Outbox of the other domain takes nothing for 4 s: a peer that is slow to answer.
    const blocked = Date.now();
    let blocking: () => void = () => {};
    const block = new Promise<void>((started) => (blocking = started));
    const unblocked = runInDurableObject(env.OUTBOX.get(env.OUTBOX.idFromName(PEER)), (_i, state) =>
      state.blockConcurrencyWhile(() => {
        blocking();
        return new Promise((r) => setTimeout(r, 4000));
      }),
    );
    await block;
    const submit = async () => ({ id: randomId16(), epoch: 0, kind: "application", mls: await mls.message() });
    const first = await submit();
    const firstAnswer = call(alice, "POST", `/conversations/${conversation}/messages`, first);
    const carolHas = async (id: string) => {
      for (let i = 0; i < 100; i++) {
        if ((await applications(carol)).some((item) => item.id === id)) return Date.now() - blocked;
        await new Promise((r) => setTimeout(r, 20));
      }
      return Infinity;
    };
    expect(await carolHas(first.id)).toBeLessThan(3000);
    // The entry after it goes to Carol too, while the first still waits for the other domain.
    const second = await submit();
    const secondAnswer = call(alice, "POST", `/conversations/${conversation}/messages`, second);
    expect(await carolHas(second.id)).toBeLessThan(3500);
    expect((await applications(carol)).map((item) => item.id)).toEqual([first.id, second.id]);
    // Submitters are answered once every lane handed their entries on: after the peer's Outbox took them.
    await unblocked;
    expect((await firstAnswer).status).toBe(202);
    expect((await secondAnswer).status).toBe(202);
    expect(Date.now() - blocked).toBeGreaterThanOrEqual(4000);
  }, 15_000);

  it("keeps an entry for a member whose domain is down in that domain's Outbox, and bounces it to its author, naming the member, when it expires", async () => {
    const down = "im.erin.test" as Domain;
    const alice = await registered("fdb");
    const far = newDevice("fdf", down);
    // A friend on a domain whose server does not answer, as an accepted request would have made them.
    const signed = friendRequest(far, alice.address);
    expect(await sendFederated(await trustedPeer(down), [{ id: signed.body.id, kind: "friend_request", signed }])).toMatchObject([{ ok: true }]);
    await runInDurableObject(accountStub(alice.address), (_i, state) => {
      state.storage.sql.exec("UPDATE friends SET state = 'friend' WHERE address = ?", far.address);
    });
    const { conversation } = (await (await call(alice, "POST", "/conversations", { id: randomId16(), members: [far.address] })).json()) as { conversation: string };
    const submit = { id: randomId16(), epoch: 0, kind: "application", mls: await (await TestGroup.of(alice, conversation)).message() };
    // Answered once handed on: the Outbox could not deliver it and keeps it for a retry.
    expect((await call(alice, "POST", `/conversations/${conversation}/messages`, submit)).status).toBe(202);
    const box = env.OUTBOX.get(env.OUTBOX.idFromName(down));
    expect(await box.pending()).toBe(1);
    await runInDurableObject(box, (_i, state) => {
      state.storage.sql.exec("UPDATE queue SET queued = ?, next_at = 0", Date.now() - 31 * 86400_000);
    });
    await runDurableObjectAlarm(box);
    expect(await box.pending()).toBe(0);
    const page = (await (await call(alice, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
    expect(page.items.filter((i) => i.kind === "bounce")).toMatchObject([{ kind: "bounce", ref: submit.id, to: far.address, error: "peer_unreachable", conversation }]);
  });
});
