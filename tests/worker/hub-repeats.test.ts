import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/index.js";
import { befriend, call, errorOf, registered, type Device } from "./harness.js";
import { restartHub } from "./hub-groups.js";
import { TestGroup } from "./mls.js";

/*
 * A hub answers a submission sent again under its id with its first answer (PROTOCOL §8) from
 * what it stored, not from what one instance remembers: after the hub's object restarted, the
 * retry gets its first seq and is fanned out no second time, and an id another account used
 * stays refused.
 */

async function convIds(d: Device): Promise<string[]> {
  const page = (await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
  return page.items.flatMap((i) => (i.kind === "conv" ? [i.id] : []));
}


describe("a hub's submissions sent again", () => {
  it("answers a retry after a restart with the first seq, stores and fans it once, and refuses the id to another member", async () => {
    const alice = await registered("hra");
    const bob = await registered("hrb");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    const send = (d: Device, body: Record<string, unknown>) => call(d, "POST", `/conversations/${conversation}/messages`, body);
    const first = { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() };
    const second = { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() };
    expect(await (await send(alice, first)).json()).toEqual({ accepted: true, seq: 1 });
    expect(await (await send(alice, second)).json()).toEqual({ accepted: true, seq: 2 });
    await restartHub(conversation);
    expect(await (await send(alice, first)).json()).toEqual({ accepted: true, seq: 1 });
    expect(await (await send(alice, second)).json()).toEqual({ accepted: true, seq: 2 });
    const taken = await send(bob, { ...first, mls: await group.message() });
    expect(taken.status).toBe(409);
    expect(await errorOf(taken)).toBe("conflict");
    const third = { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() };
    expect(await (await send(alice, third)).json()).toEqual({ accepted: true, seq: 3 });
    expect(await convIds(bob)).toEqual([first.id, second.id, third.id]);
  }, 20_000);

  it("answers a retry of a commit after a restart with its first seq, not stale_epoch, and keeps the epoch it set", async () => {
    const alice = await registered("hrc");
    const bob = await registered("hrd");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    const added = await group.add([bob]);
    const commit = { id: randomId16(), epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address] } };
    const send = (body: Record<string, unknown>) => call(alice, "POST", `/conversations/${conversation}/messages`, body);
    expect(await (await send(commit)).json()).toEqual({ accepted: true, seq: 1 });
    await restartHub(conversation);
    expect(await (await send(commit)).json()).toEqual({ accepted: true, seq: 1 });
    const view = (await (await call(bob, "GET", `/conversations/${conversation}`)).json()) as { epoch: number; lastSeq: number };
    expect(view).toMatchObject({ epoch: 1, lastSeq: 1 });
    expect((await convIds(bob)).filter((id) => id === commit.id)).toHaveLength(2);
  }, 20_000);
});

describe("a round whose log write fails part way", () => {
  // insertLog writes a round's ids (submit_ids) and then its run row: should the row fail (a
  // storage error; planted here as a row where the round's run goes, removed again), the ids must
  // not stay taken at seqs no run holds, or the submission sent again is refused `conflict` for
  // good (or, once another entry holds that seq, answered with it) and reaches no one.
  it("takes a submission sent again after its first try failed to be logged, and delivers it", async () => {
    const alice = await registered("hrf");
    const bob = await registered("hrg");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    const send = (body: Record<string, unknown>) => call(alice, "POST", `/conversations/${conversation}/messages`, body);
    expect(await (await send({ id: randomId16(), epoch: 0, kind: "application", mls: await group.message() })).json()).toEqual({ accepted: true, seq: 1 });
    const hub = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(conversation));
    await runInDurableObject(hub(), (_i, state) => {
      state.storage.sql.exec("INSERT INTO runs (last, first, at, entries, withdraws) VALUES (2, 2, ?, '[]', NULL)", Date.now());
    });
    const second = { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() };
    const failed = await send(second);
    expect(failed.status).toBe(503);
    expect(await errorOf(failed)).toBe("unavailable");
    await runInDurableObject(hub(), (_i, state) => {
      state.storage.sql.exec("DELETE FROM runs WHERE last = 2 AND entries = '[]'");
    });
    const again = await send(second);
    expect(await again.json()).toEqual({ accepted: true, seq: 2 });
    expect(await convIds(bob)).toContain(second.id);
  }, 20_000);
});
