import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { MAX_SESSION_SUBMITS, type MailItem } from "../../shared/wire/index.js";
import { call } from "./harness.js";
import { convItems, sessionOf, twoInConversation } from "./hub-groups.js";
import { LOG_RETENTION_MS, RECENT_IDS_HARD_MAX, RECENT_IDS_MAX } from "../../worker/conversation.js";

/**
 * The hub's log as runs (worker/conversation.ts): entries written by the code before runs (one
 * row each in `log`) are read after the upgrade, and a retry gets its first answer across a
 * restart of the hub object.
 */

function hubOf(conv: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(conv));
}

/** Ends the hub's instance: its next request starts a new one, which reads only what is stored. */
async function restart(conv: string): Promise<void> {
  await runInDurableObject(hubOf(conv), (_i, state) => state.abort("restart")).catch(() => undefined);
}

const OLD_LOG = `CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, submit_id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL,
  sender TEXT NOT NULL, device_id TEXT NOT NULL, epoch INTEGER NOT NULL, type TEXT NOT NULL, mls TEXT NOT NULL,
  welcome TEXT, members TEXT, recipients TEXT NOT NULL, welcome_to TEXT NOT NULL, author_proof TEXT, withdraws TEXT)`;

/**
 * Puts the hub's storage back as the code before runs left it (schema version 7, a `log` row per
 * entry, the fan-out at `fannedThrough`), with the same entries, and restarts it.
 */
async function asBeforeRuns(conv: string, fannedThrough: number): Promise<void> {
  await runInDurableObject(hubOf(conv), (_i, state) => {
    const sql = state.storage.sql;
    const runs = sql.exec<{ first: number; entries: string }>("SELECT first, entries FROM runs ORDER BY last").toArray();
    sql.exec(OLD_LOG);
    for (const run of runs) {
      (JSON.parse(run.entries) as unknown[][]).forEach((t, i) => {
        sql.exec("INSERT INTO log (seq, submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to, author_proof, withdraws) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run.first + i, ...(t as (string | number | null)[]));
      });
    }
    sql.exec("DROP TABLE runs");
    sql.exec("DROP TABLE submit_ids");
    sql.exec("ALTER TABLE meta DROP COLUMN ids_through");
    sql.exec("UPDATE schema_version SET version = 7");
    sql.exec("UPDATE meta SET fanned_through = ?", fannedThrough);
  });
  await restart(conv);
}

describe("the hub's log as runs", () => {
  it("reads a log written one row an entry: a retry gets its first answer, new entries follow it, what was not fanned out goes out", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hla", "hlb");
    const first = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    const second = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, first)).json()).toEqual({ accepted: true, seq: 2 });
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, second)).json()).toEqual({ accepted: true, seq: 3 });
    const before = (await convItems(alice)).map((i) => [i.hubSeq, i.type, i.id]);
    expect(before.filter(([, type]) => type === "application")).toEqual([[2, "application", first.id], [3, "application", second.id]]);
    // The upgrade finds seq 3 not yet fanned out (the hub stopped before): it goes out again, once.
    await asBeforeRuns(conv, 2);
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, first)).json()).toEqual({ accepted: true, seq: 2 });
    const third = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, third)).json()).toEqual({ accepted: true, seq: 4 });
    expect(await (await call(alice, "POST", `/conversations/${conv}/messages`, { ...first, mls: await group.message() })).json()).toMatchObject({ error: "conflict" });
    expect((await convItems(alice)).map((i) => [i.hubSeq, i.type, i.id])).toEqual([...before, [4, "application", third.id]]);
    const view = await call(alice, "GET", `/conversations/${conv}`);
    expect(await view.json()).toMatchObject({ epoch: 1, lastSeq: 4 });
    await runInDurableObject(hubOf(conv), (_i, state) => {
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'log'").toArray()).toEqual([]);
      expect(state.storage.sql.exec<{ first: number; last: number }>("SELECT first, last FROM runs ORDER BY last").toArray()).toEqual([
        { first: 1, last: 1 }, { first: 2, last: 2 }, { first: 3, last: 3 }, { first: 4, last: 4 },
      ]);
    });
  }, 30_000);

  it("answers a retry of a burst's entry with its first seq after the hub restarted, and the burst's other entries once each", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hra", "hrb");
    const bodies = await Promise.all([0, 1, 2].map(async () => ({ id: randomId16(), epoch: 1, kind: "application", mls: await group.message() })));
    const seqs = await Promise.all(bodies.map(async (b) => ((await (await call(bob, "POST", `/conversations/${conv}/messages`, b)).json()) as { seq: number }).seq));
    expect(new Set(seqs)).toEqual(new Set([2, 3, 4]));
    await restart(conv);
    const again = await Promise.all(bodies.map(async (b) => ((await (await call(bob, "POST", `/conversations/${conv}/messages`, b)).json()) as { seq: number }).seq));
    expect(again).toEqual(seqs);
    // A burst of a retry and a new entry: the new one takes the next seq, no gap.
    const fresh = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    const mixed = await Promise.all([bodies[1]!, fresh].map(async (b) => ((await (await call(bob, "POST", `/conversations/${conv}/messages`, b)).json()) as { seq: number }).seq));
    expect(mixed).toEqual([seqs[1], 5]);
    const ids = (await convItems(alice)).filter((i) => i.type === "application").map((i) => i.id);
    expect(ids.sort()).toEqual([...bodies.map((b) => b.id), fresh.id].sort());
  }, 30_000);

  it("keeps where its fan-out got soon after the fan-out stops, so a restart then hands nothing on again", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hfa", "hfb");
    const bodies = await Promise.all([0, 1, 2].map(async () => ({ id: randomId16(), epoch: 1, kind: "application", mls: await group.message() })));
    // Each answered once fanned out; the last one answered leaves the hub with nothing more to hand on.
    for (const b of bodies) await call(bob, "POST", `/conversations/${conv}/messages`, b);
    const fanned = () => runInDurableObject(hubOf(conv), (_i, state) => state.storage.sql.exec<{ f: number }>("SELECT fanned_through AS f FROM meta").one().f);
    await vi.waitFor(async () => expect(await fanned()).toBe(4), { timeout: 5000, interval: 100 });
    await restart(conv);
    expect(await fanned()).toBe(4);
    expect((await convItems(alice)).filter((i) => i.type === "application").map((i) => i.hubSeq)).toEqual([2, 3, 4]);
  }, 30_000);

  it("answers retries from the ids kept before their sender was kept beside them: the first seq to the sender, conflict to anyone else", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hsa", "hsb");
    const bodies = await Promise.all([0, 1, 2].map(async () => ({ id: randomId16(), epoch: 1, kind: "application", mls: await group.message() })));
    const seqs = await Promise.all(bodies.map(async (b) => ((await (await call(bob, "POST", `/conversations/${conv}/messages`, b)).json()) as { seq: number }).seq));
    // Back to the runs code's schema (version 8): ids with their seq only.
    await runInDurableObject(hubOf(conv), (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE ids_before (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID");
      sql.exec(`INSERT INTO ids_before SELECT id, seq FROM submit_ids
        UNION ALL SELECT value->>0, value->>1 FROM runs, json_each(runs.ids) WHERE runs.last > (SELECT ids_through FROM meta)`);
      sql.exec("DROP TABLE submit_ids");
      sql.exec("ALTER TABLE runs DROP COLUMN ids");
      sql.exec("ALTER TABLE meta DROP COLUMN ids_through");
      sql.exec("ALTER TABLE ids_before RENAME TO submit_ids");
      sql.exec("UPDATE schema_version SET version = 8");
    });
    await restart(conv);
    const again = await Promise.all(bodies.map(async (b) => ((await (await call(bob, "POST", `/conversations/${conv}/messages`, b)).json()) as { seq: number }).seq));
    expect(again).toEqual(seqs);
    expect(await (await call(alice, "POST", `/conversations/${conv}/messages`, { ...bodies[0]!, mls: await group.message() })).json()).toMatchObject({ error: "conflict" });
    await runInDurableObject(hubOf(conv), (_i, state) => {
      const kept = state.storage.sql.exec<{ seq: number; sender: string; type: string }>("SELECT seq, sender, type FROM submit_ids ORDER BY seq").toArray();
      expect(kept).toEqual([{ seq: 1, sender: alice.address, type: "commit" }, ...[...seqs].sort().map((seq) => ({ seq, sender: bob.address, type: "application" }))]);
    });
  }, 30_000);

  it("drops the runs handed on that are past the retention, and their ids, on the alarm; the seqs go on after them", async () => {
    const { bob, conv, group } = await twoInConversation("hda", "hdb");
    const old = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    const kept = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, old)).json()).toEqual({ accepted: true, seq: 2 });
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, kept)).json()).toEqual({ accepted: true, seq: 3 });
    const past = Date.now() - LOG_RETENTION_MS - 1000;
    await runInDurableObject(hubOf(conv), (_i, state) => {
      state.storage.sql.exec("UPDATE runs SET at = ? WHERE last <= 2", past);
    });
    expect(await runDurableObjectAlarm(hubOf(conv))).toBe(true);
    await runInDurableObject(hubOf(conv), (_i, state) => {
      expect(state.storage.sql.exec("SELECT first, last FROM runs ORDER BY last").toArray()).toEqual([{ first: 3, last: 3 }]);
      expect(state.storage.sql.exec("SELECT id, seq FROM submit_ids").toArray()).toEqual([{ id: kept.id, seq: 3 }]);
    });
    // Gone from the log, the old id is as new (as when its row was deleted); what is kept still answers as a retry.
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, kept)).json()).toEqual({ accepted: true, seq: 3 });
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, old)).json()).toEqual({ accepted: true, seq: 4 });
    await restart(conv);
    const next = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    expect(await (await call(bob, "POST", `/conversations/${conv}/messages`, next)).json()).toEqual({ accepted: true, seq: 5 });
  }, 30_000);
  it("answers a retry with its first seq while the latest ids move to submit_ids once the hub is quiet, through a round that rolls back and a restart", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hlm", "hln");
    const mls = await group.message();
    const body = () => ({ id: randomId16(), epoch: 1, kind: "application", mls });
    const send = async (d: typeof bob, b: ReturnType<typeof body>) => (await call(d, "POST", `/conversations/${conv}/messages`, b)).json();
    // With the commit, 999 ids wait in their runs' rows: the next entry makes RECENT_IDS_MAX (1,000), which move once the hub is quiet.
    const early = Array.from({ length: 998 }, body);
    const session = await sessionOf(bob, conv);
    for (let i = 0; i < early.length; i += MAX_SESSION_SUBMITS) {
      session.ws.send(JSON.stringify({ t: "submits", submits: early.slice(i, i + MAX_SESSION_SUBMITS) }));
      expect(await session.next()).toMatchObject({ t: "acks" });
    }
    session.ws.close(1000, "bye");
    const ids = () =>
      runInDurableObject(hubOf(conv), (_i, state) => ({
        moved: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM submit_ids").one().n,
        recent: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM runs, json_each(runs.ids) WHERE runs.last > (SELECT ids_through FROM meta)").one().n,
      }));
    expect(await ids()).toEqual({ moved: 0, recent: 999 });
    // The round that moves them fails at its run row (planted where it goes): nothing of it stays.
    await runInDurableObject(hubOf(conv), (_i, state) => {
      state.storage.sql.exec("INSERT INTO runs (last, first, at, entries, withdraws) VALUES (1000, 1000, ?, '[]', NULL)", Date.now());
    });
    const mover = body();
    expect(await send(bob, mover)).toMatchObject({ error: "unavailable" });
    expect(await ids()).toEqual({ moved: 0, recent: 999 });
    await runInDurableObject(hubOf(conv), (_i, state) => {
      state.storage.sql.exec("DELETE FROM runs WHERE last = 1000 AND entries = '[]'");
    });
    expect(await send(bob, early[0]!)).toEqual({ accepted: true, seq: 2 });
    expect(await send(bob, mover)).toEqual({ accepted: true, seq: 1000 });
    await expect.poll(ids, { timeout: 10_000 }).toEqual({ moved: RECENT_IDS_MAX, recent: 0 });
    const late = [body(), body()];
    expect(await Promise.all(late.map((b) => send(bob, b)))).toEqual([{ accepted: true, seq: 1001 }, { accepted: true, seq: 1002 }]);
    for (const restarted of [false, true]) {
      if (restarted) await restart(conv);
      // Moved, not yet moved, and the one whose move rolled back: each its first seq to its sender, conflict to another member.
      for (const [b, seq] of [[early[0]!, 2], [early[997]!, 999], [mover, 1000], [late[1]!, 1002]] as const) {
        expect(await send(bob, b)).toEqual({ accepted: true, seq });
        expect(await send(alice, b)).toMatchObject({ error: "conflict" });
      }
    }
    expect(await send(bob, body())).toEqual({ accepted: true, seq: 1003 });
    // Alice's mailbox holds each of Bob's entries once, in hub order.
    const got: number[] = [];
    for (let after = 0, more = true; more; ) {
      const page = (await (await call(alice, "GET", `/mailbox?after=${after}&limit=500`)).json()) as { items: MailItem[]; more: boolean };
      for (const item of page.items) if (item.kind === "conv" && item.type === "application") got.push(item.hubSeq);
      more = page.more && page.items.length > 0;
      after = page.items.at(-1)?.seq ?? after;
    }
    await expect.poll(() => got.length).toBe(1002);
    expect(got).toEqual(Array.from({ length: 1002 }, (_, i) => i + 2));
  }, 120_000);
  it("keeps at most RECENT_IDS_HARD_MAX ids waiting while a sender never lets the hub be quiet, and answers retries of either side of the move", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hlq", "hlu");
    const mls = await group.message();
    const body = () => ({ id: randomId16(), epoch: 1, kind: "application", mls });
    const session = await sessionOf(bob, conv);
    const recent = () =>
      runInDurableObject(hubOf(conv), (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM runs, json_each(runs.ids) WHERE runs.last > (SELECT ids_through FROM meta)").one().n);
    const sent: ReturnType<typeof body>[] = [];
    let most = 0;
    for (let i = 0; i < RECENT_IDS_HARD_MAX + 2 * MAX_SESSION_SUBMITS; i += MAX_SESSION_SUBMITS) {
      const frame = Array.from({ length: MAX_SESSION_SUBMITS }, body);
      sent.push(...frame);
      session.ws.send(JSON.stringify({ t: "submits", submits: frame }));
      expect(await session.next()).toMatchObject({ t: "acks" });
      most = Math.max(most, await recent());
    }
    session.ws.close(1000, "bye");
    expect(most).toBeGreaterThanOrEqual(RECENT_IDS_MAX);
    expect(most).toBeLessThan(RECENT_IDS_HARD_MAX);
    const send = async (d: typeof bob, b: ReturnType<typeof body>) => (await call(d, "POST", `/conversations/${conv}/messages`, b)).json();
    for (const k of [0, RECENT_IDS_HARD_MAX - 2, sent.length - 1]) {
      expect(await send(bob, sent[k]!)).toEqual({ accepted: true, seq: k + 2 });
      expect(await send(alice, sent[k]!)).toMatchObject({ error: "conflict" });
    }
  }, 120_000);
  it("moves the ids kept in recent_ids (schema step 10) to submit_ids: their retries get their first seqs after the upgrade", async () => {
    const { alice, bob, conv, group } = await twoInConversation("hlr", "hls");
    const mls = await group.message();
    const bodies = [0, 1, 2].map(() => ({ id: randomId16(), epoch: 1, kind: "application", mls }));
    const send = async (d: typeof bob, b: (typeof bodies)[number]) => (await call(d, "POST", `/conversations/${conv}/messages`, b)).json();
    for (const [i, b] of bodies.entries()) expect(await send(bob, b)).toEqual({ accepted: true, seq: i + 2 });
    // Back to step 10's layout: the ids not yet in submit_ids in recent_ids, none in the runs.
    await runInDurableObject(hubOf(conv), (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE recent_ids (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender TEXT NOT NULL, type TEXT NOT NULL)");
      sql.exec("INSERT INTO recent_ids SELECT value->>1, value->>0, value->>2, value->>3 FROM runs, json_each(runs.ids) WHERE runs.last > (SELECT ids_through FROM meta)");
      sql.exec("ALTER TABLE runs DROP COLUMN ids");
      sql.exec("ALTER TABLE meta DROP COLUMN ids_through");
      sql.exec("UPDATE schema_version SET version = 10");
    });
    await restart(conv);
    for (const [i, b] of bodies.entries()) {
      expect(await send(bob, b)).toEqual({ accepted: true, seq: i + 2 });
      expect(await send(alice, b)).toMatchObject({ error: "conflict" });
    }
    expect(await send(bob, { id: randomId16(), epoch: 1, kind: "application", mls })).toEqual({ accepted: true, seq: 5 });
    await runInDurableObject(hubOf(conv), (_i, state) => {
      expect(state.storage.sql.exec("SELECT seq, sender, type FROM submit_ids ORDER BY seq").toArray()).toEqual([
        { seq: 1, sender: alice.address, type: "commit" },
        ...[2, 3, 4].map((seq) => ({ seq, sender: bob.address, type: "application" })),
      ]);
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'recent_ids'").toArray()).toEqual([]);
    });
  }, 30_000);
});
