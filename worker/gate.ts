import { DurableObject } from "cloudflare:workers";
import type { Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { DEFAULT_WINDOW_SECONDS } from "../shared/http-signature.js";
import type { FedResult } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { attemptNow, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";
import { parseRateRules, takeToken, type RateScope } from "./policy/rate-limit.js";

export const FED_DEDUPE_MS = 7 * 86400_000;
const NONCE_KEEP_MS = 2 * DEFAULT_WINDOW_SECONDS * 1000;
const CLEANUP_EVERY_MS = 10 * 60 * 1000;

const STEPS = [
  `CREATE TABLE nonces (key_id TEXT NOT NULL, nonce TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (key_id, nonce));
   CREATE INDEX nonces_at ON nonces(at);
   CREATE TABLE buckets (scope TEXT NOT NULL, subject TEXT NOT NULL, tokens REAL NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (scope, subject));
   CREATE TABLE fed_seen (from_domain TEXT NOT NULL, id TEXT NOT NULL, result TEXT NOT NULL, at INTEGER NOT NULL,
     PRIMARY KEY (from_domain, id));
   CREATE INDEX fed_seen_at ON fed_seen(at);`,
];

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
  }

  /** Before a write: the tables (again, after an empty gate deleted its storage) and the cleanup alarm. */
  private async prepare(): Promise<void> {
    if (this.ready) return;
    migrate(this.sql, STEPS);
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
    const rules = parseRateRules(this.env.EMSG_RATE);
    for (const { scope, subject } of limits) {
      const row = this.sql.exec<{ tokens: number; at: number }>("SELECT tokens, at FROM buckets WHERE scope = ? AND subject = ?", scope, subject).toArray()[0];
      const take = takeToken(row, rules[scope], now);
      this.sql.exec("INSERT OR REPLACE INTO buckets (scope, subject, tokens, at) VALUES (?, ?, ?, ?)", scope, subject, take.bucket.tokens, now);
      if (!take.allowed) return take.retryAfterSeconds;
    }
    return null;
  }

  /** Results already given for items of this peer (federation dedupe, 7 days), one statement for the batch. */
  private seenOf(from: Domain, ids: string[]): Record<string, FedResult> {
    const out: Record<string, FedResult> = {};
    if (ids.length === 0) return out;
    const rows = this.sql
      .exec<{ id: string; result: string }>("SELECT id, result FROM fed_seen WHERE from_domain = ? AND id IN (SELECT value FROM json_each(?))", from, JSON.stringify(ids))
      .toArray();
    for (const row of rows) out[row.id] = JSON.parse(row.result) as FedResult;
    return out;
  }

  async remember(from: Domain, results: FedResult[]): Promise<void> {
    await this.prepare();
    this.sql.exec(
      "INSERT OR REPLACE INTO fed_seen (from_domain, id, result, at) SELECT ?, value->>'id', value, ? FROM json_each(?)",
      from,
      Date.now(),
      JSON.stringify(results),
    );
  }

  /** Nonces past every replay window, dedupe records past 7 days and idle buckets go; an empty gate goes entirely. */
  override async alarm(): Promise<void> {
    migrate(this.sql, STEPS);
    const now = Date.now();
    this.sql.exec("DELETE FROM nonces WHERE at < ?", now - NONCE_KEEP_MS);
    this.sql.exec("DELETE FROM fed_seen WHERE at < ?", now - FED_DEDUPE_MS);
    this.sql.exec("DELETE FROM buckets WHERE at < ?", now - CLEANUP_EVERY_MS);
    // Whether any row is left, not how many: a peer's gate holds 7 days of its item ids, and
    // counting them every CLEANUP_EVERY_MS read them all while its peer's batches waited.
    const left = this.sql
      .exec<{ n: number }>("SELECT EXISTS (SELECT 1 FROM nonces) OR EXISTS (SELECT 1 FROM fed_seen) OR EXISTS (SELECT 1 FROM buckets) AS n")
      .one().n;
    if (left === 0) {
      this.ready = false;
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.setAlarm(now + CLEANUP_EVERY_MS);
  }
}
