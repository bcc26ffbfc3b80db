import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { randomId16 } from "../../shared/ids.js";
import type { FedResult } from "../../shared/wire/index.js";
import { FED_DEDUPE_MS, GATE_STEPS, recordsOf, type GateObject } from "../../worker/gate.js";
import { migrate } from "../../worker/sql-schema.js";

const DAY = 86400_000;
const none = { keyId: "", nonce: "", limits: [] };

function gateOf(name: string): DurableObjectStub<GateObject> {
  return env.GATE.get(env.GATE.idFromName(name));
}

async function seen(gate: DurableObjectStub<GateObject>, from: Domain, ids: string[]): Promise<Record<string, FedResult>> {
  const answer = await gate.admit(none, { from, ids });
  if (!answer.ok) throw new Error(answer.error.message);
  return answer.value.seen;
}

/** The dedupe records as they were kept before the period tables: fed_seen's statements, on a table of its own here. */
const reference = {
  create: "CREATE TABLE IF NOT EXISTS ref_seen (from_domain TEXT NOT NULL, id TEXT NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (from_domain, id))",
  remember(sql: SqlStorage, from: string, results: FedResult[]): void {
    sql.exec("INSERT OR REPLACE INTO ref_seen (from_domain, id, result, at) SELECT ?, value->>'id', value, ? FROM json_each(?)", from, Date.now(), JSON.stringify(results));
  },
  seen(sql: SqlStorage, from: string, ids: string[]): Record<string, FedResult> {
    const out: Record<string, FedResult> = {};
    const rows = sql.exec<{ id: string; result: string }>("SELECT id, result FROM ref_seen WHERE from_domain = ? AND id IN (SELECT value FROM json_each(?))", from, JSON.stringify(ids));
    for (const row of rows) out[row.id] = asRepeat(JSON.parse(row.result) as FedResult);
    return out;
  },
};

/** What a repeat is answered: the first result, but an ok names no soleDevice (PROTOCOL §7). */
function asRepeat(result: FedResult): FedResult {
  return "ok" in result ? { id: result.id, ok: true } : result;
}

const ids = ["AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCCCCCCC", "DDDDDDDDDDDDDDDDDDDDDD", "EEEEEEEEEEEEEEEEEEEEEE"];
const result = fc.oneof(
  fc.record({ id: fc.constantFrom(...ids), ok: fc.constant(true as const) }),
  fc.record({ id: fc.constantFrom(...ids), ok: fc.constant(true as const), soleDevice: fc.constantFrom("dev1", "dev2") }),
  fc.record({ id: fc.constantFrom(...ids), error: fc.constantFrom("forbidden", "not_found", "stranger_refused"), message: fc.string({ maxLength: 12 }) }),
) as fc.Arbitrary<FedResult>;

describe("a peer's federation results (dedupe, PROTOCOL §7)", () => {
  it("answers what fed_seen answered, an ok without its soleDevice, for any batches of results (repeated ids, ok with and without soleDevice, errors)", async () => {
    const gate = gateOf("peer:im.dedupe-prop.test");
    await gate.admit(none);
    await runInDurableObject(gate, async (instance: GateObject, state) => {
      state.storage.sql.exec(reference.create);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(result, { minLength: 1, maxLength: 8 }), { maxLength: 6 }), fc.subarray(ids), async (batches, asked) => {
          const from = `im.run${run++}.test` as Domain;
          for (const batch of batches) {
            await instance.remember(from, recordsOf(batch));
            reference.remember(state.storage.sql, from, batch);
          }
          const answer = await instance.admit(none, { from, ids: asked });
          expect(answer.ok && answer.value.seen).toEqual(reference.seen(state.storage.sql, from, asked));
        }),
        { numRuns: 200 },
      );
    });
  });

  it("keeps answering a result of the period before, and stops once it is older than FED_DEDUPE_MS", async () => {
    const from = "im.dedupe-age.test" as Domain;
    const gate = gateOf(`peer:${from}`);
    const kept: FedResult = { id: randomId16(), error: "forbidden", message: "Not the hub." };
    const old: FedResult = { id: randomId16(), ok: true };
    await gate.remember(from, recordsOf([kept, old]));
    // Both moved into the other slot as the period before: one 6 days old, one 7 days and a minute.
    await runInDurableObject(gate, (instance: GateObject, state) => {
      const sql = state.storage.sql;
      const period = Math.floor(Date.now() / FED_DEDUPE_MS);
      const [now, before] = [period % 2, (period + 1) % 2];
      sql.exec(`INSERT INTO fed_results_${before} SELECT from_domain, id, result, at FROM fed_results_${now}`);
      sql.exec(`DELETE FROM fed_results_${now}`);
      sql.exec("INSERT OR REPLACE INTO fed_periods (slot, period) VALUES (?, ?)", before, period - 1);
      sql.exec(`UPDATE fed_results_${before} SET at = ? WHERE id = ?`, Date.now() - 6 * DAY, kept.id);
      sql.exec(`UPDATE fed_results_${before} SET at = ? WHERE id = ?`, Date.now() - FED_DEDUPE_MS - 60_000, old.id);
      (instance as unknown as { periods: undefined }).periods = undefined;
    });
    expect(await seen(gate, from, [kept.id, old.id])).toEqual({ [kept.id]: kept });
    // Applied again, the old one's new result is answered from now on.
    const again: FedResult = { id: old.id, error: "not_found", message: "gone" };
    await gate.remember(from, recordsOf([again]));
    expect(await seen(gate, from, [kept.id, old.id])).toEqual({ [kept.id]: kept, [old.id]: again });
  });

  it("empties the slot a new period takes (its rows are past FED_DEDUPE_MS) and keeps the period before", async () => {
    const from = "im.dedupe-rotate.test" as Domain;
    const gate = gateOf(`peer:${from}`);
    const stale: FedResult = { id: randomId16(), ok: true };
    const before: FedResult = { id: randomId16(), ok: true, soleDevice: "dev1" };
    await gate.remember(from, recordsOf([stale]));
    const period = Math.floor(Date.now() / FED_DEDUPE_MS);
    const slot = period % 2;
    await runInDurableObject(gate, (instance: GateObject, state) => {
      const sql = state.storage.sql;
      // This period's slot still holds the period two before; the other one the period before.
      sql.exec("UPDATE fed_periods SET period = ? WHERE slot = ?", period - 2, slot);
      sql.exec(`UPDATE fed_results_${slot} SET at = ?`, Date.now() - 2 * FED_DEDUPE_MS + DAY);
      sql.exec(`INSERT INTO fed_results_${1 - slot} (from_domain, id, result, at) VALUES (?, ?, ?, ?)`, from, before.id, JSON.stringify(before), Date.now() - DAY);
      sql.exec("INSERT INTO fed_periods (slot, period) VALUES (?, ?)", 1 - slot, period - 1);
      (instance as unknown as { periods: undefined }).periods = undefined;
    });
    const fresh: FedResult = { id: randomId16(), ok: true };
    await gate.remember(from, recordsOf([fresh]));
    // An ok stored with its soleDevice by earlier code is answered without it.
    expect(await seen(gate, from, [stale.id, before.id, fresh.id])).toEqual({ [before.id]: asRepeat(before), [fresh.id]: fresh });
    const rows = await runInDurableObject(gate, (_i, state) => state.storage.sql.exec<{ id: string }>(`SELECT id FROM fed_results_${slot}`).toArray());
    expect(rows).toEqual([{ id: fresh.id }]);
  });

  it("reads the results a gate stored before the period tables, as a repeat is answered, and drops the expired ones", async () => {
    const from = "im.dedupe-upgrade.test" as Domain;
    const gate = gateOf(`peer:${from}`);
    const results: FedResult[] = [
      { id: randomId16(), ok: true },
      { id: randomId16(), ok: true, soleDevice: "dev1" },
      { id: randomId16(), error: "forbidden", message: "Not the hub." },
    ];
    const expired: FedResult = { id: randomId16(), ok: true };
    await runInDurableObject(gate, (_i, state) => {
      const sql = state.storage.sql;
      migrate(sql, GATE_STEPS.slice(0, 1));
      const insert = "INSERT INTO fed_seen (from_domain, id, result, at) VALUES (?, ?, ?, ?)";
      results.forEach((r, i) => sql.exec(insert, from, r.id, JSON.stringify(r), Date.now() - i * DAY));
      sql.exec(insert, from, expired.id, JSON.stringify(expired), Date.now() - FED_DEDUPE_MS - 3600_000);
    });
    expect(await seen(gate, from, [...results.map((r) => r.id), expired.id])).toEqual(Object.fromEntries(results.map((r) => [r.id, asRepeat(r)])));
    const tables = await runInDurableObject(gate, (_i, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'fed%' ORDER BY name").toArray().map((r) => r.name),
    );
    expect(tables).toEqual(["fed_periods", "fed_results_0", "fed_results_1"]);
  });

  it("lets an idle gate whose results are all two periods old delete its storage, and keeps one holding the period before", async () => {
    const from = "im.dedupe-idle.test" as Domain;
    const gate = gateOf(`peer:${from}`);
    const kept: FedResult = { id: randomId16(), ok: true };
    await gate.remember(from, recordsOf([kept]));
    const period = Math.floor(Date.now() / FED_DEDUPE_MS);
    const setPeriod = (p: number) =>
      runInDurableObject(gate, (instance: GateObject, state) => {
        state.storage.sql.exec("UPDATE fed_periods SET period = ?", p);
        (instance as unknown as { periods: undefined }).periods = undefined;
      });
    await setPeriod(period - 1);
    await runDurableObjectAlarm(gate);
    expect(await seen(gate, from, [kept.id])).toEqual({ [kept.id]: kept });
    await setPeriod(period - 2);
    await runDurableObjectAlarm(gate);
    const tables = await runInDurableObject(gate, (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'fed%'").toArray().length);
    expect(tables).toBe(0);
    expect(await seen(gate, from, [kept.id])).toEqual({});
  });
});
