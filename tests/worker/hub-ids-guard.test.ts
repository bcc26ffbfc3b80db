import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { MAX_SESSION_SUBMITS, type MailItem } from "../../shared/wire/index.js";
import { befriend, call, registered, type Device } from "./harness.js";
import { restartHub, sessionOf } from "./hub-groups.js";
import { TestGroup } from "./mls.js";

/*
 * A submission id is the hub's dedupe key (PROTOCOL §8, §10): whatever the hub keeps in memory to
 * answer retries cheaply, an id sent again gets its first seq from its account however long ago it
 * was ordered (any window of recent ids long past), over a new session after the hub restarted,
 * and `conflict` from anyone else; nobody's mailbox gets an entry twice.
 */


async function twoMembers(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  await befriend(alice, bob);
  const res = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
  const { conversation } = (await res.json()) as { conversation: string };
  const group = await TestGroup.of(alice, conversation);
  return { alice, bob, conversation, mls: await group.message() };
}

const application = (id: string, mls: string) => ({ id, epoch: 0, kind: "application", mls });

/** The ids of the conversation entries in someone's mailbox, every page of it. */
async function idsIn(d: Device): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ; ) {
    const page = (await (await call(d, "GET", `/mailbox?after=${after}&limit=500`)).json()) as { items: MailItem[]; more: boolean };
    for (const item of page.items) if (item.kind === "conv") ids.push(item.id);
    if (!page.more || page.items.length === 0) return ids;
    after = page.items[page.items.length - 1]!.seq;
  }
}

describe("submission ids sent again, whatever the hub remembers", () => {
  it("an id ordered 2,100 entries ago (two moves of recent ids past) gets its first seq from its account (session and HTTP) and conflict from another member", async () => {
    const { alice, bob, conversation, mls } = await twoMembers("hig");
    const a = await sessionOf(alice, conversation);
    const b = await sessionOf(bob, conversation);
    const first = randomId16();
    a.ws.send(JSON.stringify({ t: "submits", submits: [application(first, mls)] }));
    expect(await a.next()).toEqual({ t: "acks", acks: [{ id: first, seq: 1 }] });
    const others: string[] = [];
    for (let sent = 0; sent < 2100; sent += MAX_SESSION_SUBMITS) {
      const ids = Array.from({ length: MAX_SESSION_SUBMITS }, () => randomId16());
      others.push(...ids);
      a.ws.send(JSON.stringify({ t: "submits", submits: ids.map((id) => application(id, mls)) }));
      expect(await a.next()).toMatchObject({ t: "acks" });
    }
    const fresh = randomId16();
    a.ws.send(JSON.stringify({ t: "submits", submits: [application(first, mls), application(fresh, mls)] }));
    expect(await a.next()).toEqual({ t: "acks", acks: [{ id: first, seq: 1 }, { id: fresh, seq: others.length + 2 }] });
    b.ws.send(JSON.stringify({ t: "submits", submits: [application(first, mls)] }));
    expect(await b.next()).toMatchObject({ t: "error", error: "conflict", id: first });
    const overHttp = await call(alice, "POST", `/conversations/${conversation}/messages`, application(first, mls));
    expect(await overHttp.json()).toEqual({ accepted: true, seq: 1 });
    // One id of each place it may be kept: moved to submit_ids long ago, moved lately, still among the recent ones.
    for (const id of [others[0]!, others[1500]!, others[others.length - 1]!]) {
      const byBob = await call(bob, "POST", `/conversations/${conversation}/messages`, application(id, mls));
      expect(byBob.status).toBe(409);
      const again = await call(alice, "POST", `/conversations/${conversation}/messages`, application(id, mls));
      expect(await again.json()).toEqual({ accepted: true, seq: others.indexOf(id) + 2 });
    }
    a.ws.close(1000, "bye");
    b.ws.close(1000, "bye");
    await expect.poll(() => idsIn(bob), { timeout: 20_000 }).toEqual([first, ...others, fresh]);
  }, 120_000);

  it("after a restart, a new session's retries get their first seqs and another member's use of an id is conflict", async () => {
    const { alice, bob, conversation, mls } = await twoMembers("hir");
    const [x, y, z] = [randomId16(), randomId16(), randomId16()];
    const a = await sessionOf(alice, conversation);
    a.ws.send(JSON.stringify({ t: "submits", submits: [application(x, mls), application(y, mls)] }));
    expect(await a.next()).toEqual({ t: "acks", acks: [{ id: x, seq: 1 }, { id: y, seq: 2 }] });
    a.ws.close(1000, "bye");
    await restartHub(conversation);
    const again = await sessionOf(alice, conversation);
    again.ws.send(JSON.stringify({ t: "submits", submits: [application(y, mls), application(x, mls), application(z, mls)] }));
    expect(await again.next()).toEqual({ t: "acks", acks: [{ id: y, seq: 2 }, { id: x, seq: 1 }, { id: z, seq: 3 }] });
    const b = await sessionOf(bob, conversation);
    b.ws.send(JSON.stringify({ t: "submits", submits: [application(x, mls)] }));
    expect(await b.next()).toMatchObject({ t: "error", error: "conflict", id: x });
    again.ws.close(1000, "bye");
    b.ws.close(1000, "bye");
    await expect.poll(() => idsIn(bob), { timeout: 10_000 }).toEqual([x, y, z]);
  }, 60_000);

  it("one id sent by two members at once is ordered once: one gets a seq, the other conflict", async () => {
    const { alice, bob, conversation, mls } = await twoMembers("hic");
    const a = await sessionOf(alice, conversation);
    const b = await sessionOf(bob, conversation);
    const id = randomId16();
    a.ws.send(JSON.stringify({ t: "submits", submits: [application(id, mls)] }));
    b.ws.send(JSON.stringify({ t: "submits", submits: [application(id, mls)] }));
    const answers = [await a.next(), await b.next()];
    expect(answers.filter((f) => f.t === "acks")).toEqual([{ t: "acks", acks: [{ id, seq: 1 }] }]);
    expect(answers.filter((f) => f.t === "error")).toMatchObject([{ t: "error", error: "conflict", id }]);
    const later = randomId16();
    a.ws.send(JSON.stringify({ t: "submits", submits: [application(later, mls)] }));
    expect(await a.next()).toEqual({ t: "acks", acks: [{ id: later, seq: 2 }] });
    a.ws.close(1000, "bye");
    b.ws.close(1000, "bye");
    // A sole device's own answered message goes to no mailbox of its account (PROTOCOL §6): each sees the other's.
    const aliceWon = answers[0]!.t === "acks";
    await expect.poll(() => idsIn(bob), { timeout: 10_000 }).toEqual(aliceWon ? [id, later] : [later]);
    expect(await idsIn(alice)).toEqual(aliceWon ? [] : [id]);
  }, 60_000);
});
