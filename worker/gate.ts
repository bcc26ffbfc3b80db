import { DurableObject } from "cloudflare:workers";
import type { Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { DEFAULT_WINDOW_SECONDS } from "../shared/http-signature.js";
import type { FedResult } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { attemptNow, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";
import { parseRateRules, takeToken, type Bucket, type RateRules, type RateScope } from "./policy/rate-limit.js";

export const FED_DEDUPE_MS = 7 * 86400_000;
const NONCE_KEEP_MS = 2 * DEFAULT_WINDOW_SECONDS * 1000;
const CLEANUP_EVERY_MS = 10 * 60 * 1000;
/** SQLite's clock in milliseconds, for a schema step (steps are SQL text run once). */
const nowMsSql = "CAST(strftime('%s', 'now') AS INTEGER) * 1000";

/**
 * A federation result is kept in the table of its period (FED_DEDUPE_MS long), slot `period % 2`,
 * keyed by peer and id, with no other index: a batch's records are one B-tree's inserts. A slot
 * is emptied whole when a new period takes it, by then all its rows are older than FED_DEDUPE_MS;
 * the one before stays readable, and a read takes only rows of the last FED_DEDUPE_MS, so a
 * result counts for exactly that long, as the index on time gave before. `result` NULL: `{ id, ok: true }`.
 */
function periodTable(slot: number): string {
  return `CREATE TABLE fed_results_${slot} (from_domain TEXT NOT NULL, id TEXT NOT NULL, result TEXT, at INTEGER NOT NULL,
     PRIMARY KEY (from_domain, id)) WITHOUT ROWID;`;
}

/** Exported for the tests of an upgrade from a gate of an earlier step. */
export const GATE_STEPS = [
  `CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_at ON nonces(at);
   CREATE TABLE buckets (scope TEXT NOT NULL, subject TEXT NOT NULL, tokens REAL NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (scope, subject));
   CREATE TABLE fed_seen (from_domain TEXT NOT NULL, id TEXT NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (from_domain, id));
   CREATE INDEX fed_seen_at ON fed_seen(at);`,
  // fed_seen's rows, each a write to three B-trees (its rowid, its key, its time), become rows of
  // the two period tables below; those still in force are copied, a plain ok as NULL.
  `${[0, 1].map(periodTable).join("\n")}
   CREATE TABLE fed_periods (slot INTEGER PRIMARY KEY, period INTEGER NOT NULL);
   INSERT INTO fed_periods (slot, period)
     SELECT (at / ${FED_DEDUPE_MS}) % 2, MAX(at / ${FED_DEDUPE_MS}) FROM fed_seen WHERE at >= ${nowMsSql} - ${FED_DEDUPE_MS} GROUP BY 1;
   ${[0, 1]
     .map(
       (slot) => `INSERT INTO fed_results_${slot} (from_domain, id, result, at)
     SELECT from_domain, id, CASE WHEN result = '{"id":"' || id || '","ok":true}' THEN NULL ELSE result END, at FROM fed_seen
     WHERE at >= ${nowMsSql} - ${FED_DEDUPE_MS} AND (at / ${FED_DEDUPE_MS}) % 2 = ${slot};`,
     )
     .join("\n")}
   DROP TABLE fed_seen;`,
];

/**
 * Results as GateObject.remember takes them: one JSON text, an ok as its id alone (a JSON string,
 * stored as its value, not parsed again). Made by the caller, so the call carries one string, not
 * an object per item. An ok's `soleDevice` is not kept: a repeat is answered a plain ok, as the
 * account may have another device by then and a hub takes the answer for the epoch it asks in
 * (PROTOCOL §7).
 */
export function recordsOf(results: FedResult[]): string {
  return JSON.stringify(results.map((r) => ("ok" in r ? r.id : r)));
}

export interface Limit {
  scope: RateScope;
  subject: string;
}

export interface GateAdmit {
  /** The signature's key and nonce, recorded once (empty keyId: nothing to record). */
  keyId: string;
  nonce: string;
  limits: Limit[];
}

/**
 * The replay and rate state of one subject (PROTOCOL §5, §7): an account (its bucket and its
 * devices' nonces), a peer domain (its bucket, its key's nonces, the results of its federation
 * items), or a client IP. One object per subject, so no object sees every request of the domain;
 * a subject's requests are already bounded by its own bucket. An object whose rows all expired
 * deletes its storage.
 */
export class GateObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Tables exist and the cleanup alarm is set, as far as this instance knows. */
  private ready = false;
  /** The period each slot's table holds (see periodTable), once read; this object alone writes them. */
  private periods: (number | undefined)[] | undefined;
  /** Buckets as last written, by scope and subject: this object alone writes them, so a token costs one statement, not two. */
  private readonly buckets = new Map<string, Bucket>();
  private rules: RateRules | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
  }

  /** Before a write: the tables (again, after an empty gate deleted its storage) and the cleanup alarm. */
  private async prepare(): Promise<void> {
    if (this.ready) return;
    migrate(this.sql, GATE_STEPS);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + CLEANUP_EVERY_MS);
    this.ready = true;
  }

  /**
   * Takes a token from each bucket, then records the nonce (refusing a replay). Returns seconds
   * to wait when a bucket is empty, null when admitted; `seen` also gives the results already
   * given for those federation item ids of `from` (dedupe), in the same call.
   */
  async admit(req: GateAdmit, seen?: { from: Domain; ids: string[] }): Promise<Outcome<{ wait: number | null; seen: Record<string, FedResult> }>> {
    await this.prepare();
    return attemptNow(() => {
      const now = Date.now();
      const wait = this.takeTokens(req.limits, now);
      if (wait !== null) return { wait, seen: {} };
      if (req.keyId) {
        const fresh = this.sql.exec("INSERT OR IGNORE INTO nonces (key_id, nonce, at) VALUES (?, ?, ?)", req.keyId, req.nonce, now).rowsWritten;
        if (fresh === 0) throw new EmsgError("unauthorized", "This signature's nonce was already used.");
      }
      return { wait: null, seen: seen ? this.seenOf(seen.from, seen.ids) : {} };
    });
  }

  private takeTokens(limits: Limit[], now: number): number | null {
    const rules = (this.rules ??= parseRateRules(this.env.EMSG_RATE));
    for (const { scope, subject } of limits) {
      const key = `${scope}\n${subject}`;
      const row = this.buckets.get(key) ?? this.sql.exec<Bucket>("SELECT tokens, at FROM buckets WHERE scope = ? AND subject = ?", scope, subject).toArray()[0];
      const take = takeToken(row, rules[scope], now);
      this.sql.exec("INSERT OR REPLACE INTO buckets (scope, subject, tokens, at) VALUES (?, ?, ?, ?)", scope, subject, take.bucket.tokens, now);
      this.buckets.set(key, take.bucket);
      if (!take.allowed) return take.retryAfterSeconds;
    }
    return null;
  }

  /** Results already given for items of this peer (federation dedupe, 7 days), one statement for the batch. */
  private seenOf(from: Domain, ids: string[]): Record<string, FedResult> {
    const out: Record<string, FedResult> = {};
    if (ids.length === 0) return out;
    const now = Date.now();
    const slots = this.readable(now);
    if (slots.length === 0) return out;
    const rows = this.sql
      .exec<{ id: string; result: string | null; at: number }>(
        slots.map((slot) => `SELECT id, result, at FROM fed_results_${slot} WHERE from_domain = ?1 AND id IN (SELECT value FROM json_each(?2)) AND at >= ?3`).join(" UNION ALL "),
        from,
        JSON.stringify(ids),
        now - FED_DEDUPE_MS,
      )
      .toArray();
    // An id in both tables was applied again once its first result was too old: the later result stands.
    const at = new Map<string, number>();
    for (const row of rows) {
      if ((at.get(row.id) ?? -1) > row.at) continue;
      at.set(row.id, row.at);
      // Defined, not assigned: an id is any text the peer chose, and `out["__proto__"] = …` would
      // set the record's prototype, which the call's copy refuses (an internal error for the batch).
      // An ok stored with its soleDevice (before recordsOf left it out) is answered plain too.
      const stored = row.result === null ? null : (JSON.parse(row.result) as FedResult);
      const result = stored === null || "ok" in stored ? { id: row.id, ok: true as const } : stored;
      Object.defineProperty(out, row.id, { value: result, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /** Records a batch's results (`records`: recordsOf them), in batch order: an id given twice keeps its last. */
  async remember(from: Domain, records: string): Promise<void> {
    await this.prepare();
    const now = Date.now();
    const slot = this.slotFor(now);
    this.sql.exec(
      `INSERT OR REPLACE INTO fed_results_${slot} (from_domain, id, result, at)
       SELECT ?1, IIF(type = 'text', value, value->>'id'), IIF(type = 'text', NULL, value), ?2 FROM json_each(?3)`,
      from,
      now,
      records,
    );
  }

  /** The periods of the slots, as stored. */
  private periodsOf(): (number | undefined)[] {
    if (this.periods) return this.periods;
    const periods: (number | undefined)[] = [undefined, undefined];
    for (const row of this.sql.exec<{ slot: number; period: number }>("SELECT slot, period FROM fed_periods")) periods[row.slot] = row.period;
    return (this.periods = periods);
  }

  /** The slots whose rows may be younger than FED_DEDUPE_MS: this period's and the one before. */
  private readable(now: number): number[] {
    const period = Math.floor(now / FED_DEDUPE_MS);
    return this.periodsOf().flatMap((p, slot) => (p !== undefined && p >= period - 1 ? [slot] : []));
  }

  /** This period's slot, emptied first if it still holds an older period (all of whose rows are past FED_DEDUPE_MS). */
  private slotFor(now: number): number {
    const period = Math.floor(now / FED_DEDUPE_MS);
    const slot = period % 2;
    const periods = this.periodsOf();
    if (periods[slot] !== period) {
      this.periods = undefined;
      this.sql.exec(`DELETE FROM fed_results_${slot}`);
      this.sql.exec("INSERT OR REPLACE INTO fed_periods (slot, period) VALUES (?, ?)", slot, period);
      periods[slot] = period;
      this.periods = periods;
    }
    return slot;
  }

  /** Nonces past every replay window, dedupe records past 7 days and idle buckets go; an empty gate goes entirely. */
  override async alarm(): Promise<void> {
    migrate(this.sql, GATE_STEPS);
    const now = Date.now();
    this.sql.exec("DELETE FROM nonces WHERE at < ?", now - NONCE_KEEP_MS);
    this.periods = undefined;
    const period = Math.floor(now / FED_DEDUPE_MS);
    for (const { slot } of this.sql.exec<{ slot: number }>("DELETE FROM fed_periods WHERE period < ? RETURNING slot", period - 1).toArray()) {
      this.sql.exec(`DELETE FROM fed_results_${slot}`);
    }
    this.sql.exec("DELETE FROM buckets WHERE at < ?", now - CLEANUP_EVERY_MS);
    this.buckets.clear();
    // Whether any row is left, not how many: a peer's gate holds 7 days of its item ids, and
    // counting them every CLEANUP_EVERY_MS read them all while its peer's batches waited.
    const left = this.sql
      .exec<{ n: number }>(
        "SELECT EXISTS (SELECT 1 FROM nonces) OR EXISTS (SELECT 1 FROM fed_results_0) OR EXISTS (SELECT 1 FROM fed_results_1) OR EXISTS (SELECT 1 FROM buckets) AS n",
      )
      .one().n;
    if (left === 0) {
      this.ready = false;
      this.periods = undefined;
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.setAlarm(now + CLEANUP_EVERY_MS);
  }
}
