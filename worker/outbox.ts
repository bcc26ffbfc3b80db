import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import type { Address, Domain } from "../shared/address.js";
import { isErrorCode, type ErrorCode } from "../shared/errors.js";
import { FederationInboxResponseSchema, MAX_BATCH_ITEMS, type FedItem } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { migrate } from "./sql-schema.js";
import { fateOf, retryDelay } from "./policy/retry.js";
import { bounce, type Queued } from "./routing.js";
import { federationPost } from "./federation-client.js";
import { DEFAULT_LIMITS } from "../shared/discovery.js";
import { MAILBOX_TTL_MS } from "./account.js";

/** Items arriving within this window leave in one request: one socket per batch, not per message. */
export const BATCH_WINDOW_MS = 2;
const MAX_BATCHES_PER_RUN = 50;

const STEPS = [
  `CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), domain TEXT NOT NULL);
   CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, bounce_to TEXT, ref TEXT NOT NULL,
     recipient TEXT NOT NULL, conversation TEXT, queued INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL);
   CREATE INDEX queue_due ON queue(next_at, id);`,
];

type QueueRow = {
  id: number;
  item: string;
  bounce_to: string | null;
  ref: string;
  recipient: string;
  conversation: string | null;
  queued: number;
  attempts: number;
};

/** What one batch attempt told about each item: undefined = delivered. */
type Verdicts = Map<number, ErrorCode | undefined>;

/**
 * One remote domain's outgoing queue: durable in SQLite, sent in batches, retried with
 * exponential backoff on alarms, and bounced to the local sender when it fails for good.
 */
export class OutboxObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, STEPS);
  }

  async enqueue(domain: Domain, items: Queued[]): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT OR IGNORE INTO meta (id, domain) VALUES (1, ?)", domain);
      for (const q of items) {
        this.sql.exec(
          "INSERT INTO queue (item, bounce_to, ref, recipient, conversation, queued, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          JSON.stringify(q.item),
          q.bounceTo,
          q.ref,
          q.to,
          q.conversation ?? null,
          now,
          now,
        );
      }
    });
    await this.wakeAt(now + BATCH_WINDOW_MS);
  }

  /** Number of items waiting, for tests and operators. */
  async pending(): Promise<number> {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n;
  }

  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const meta = this.sql.exec<{ domain: string }>("SELECT domain FROM meta").toArray()[0];
    if (!meta) return;
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const rows = this.sql
        .exec<QueueRow>("SELECT * FROM queue WHERE next_at <= ? ORDER BY id LIMIT ?", Date.now(), MAX_BATCH_ITEMS)
        .toArray();
      if (rows.length === 0) break;
      const batch = withinBytes(rows, DEFAULT_LIMITS.maxFederationBodyBytes);
      await this.settle(batch, await this.send(meta.domain as Domain, batch));
    }
    const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM queue").one().at;
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
  }

  /** POSTs one signed batch; a failure of the whole request applies to every item in it. */
  private async send(domain: Domain, rows: QueueRow[]): Promise<Verdicts> {
    const all = (code: ErrorCode): Verdicts => new Map(rows.map((r) => [r.id, code]));
    const items = rows.map((r) => JSON.parse(r.item) as FedItem);
    let res: Response;
    try {
      res = await federationPost(this.env, domain, "/inbox", { items });
    } catch {
      // Unreachable, or its discovery document cannot be had now: retry, then bounce at TTL.
      return all("peer_unreachable");
    }
    const text = await res.text();
    if (!res.ok) return all(wholeBatchError(res.status, text));
    let parsed;
    try {
      parsed = v.safeParse(FederationInboxResponseSchema, JSON.parse(text));
    } catch {
      return all("peer_unreachable");
    }
    if (!parsed.success) return all("peer_unreachable");
    const byId = new Map(parsed.output.results.map((r) => [r.id, r]));
    return new Map(
      rows.map((r, i) => {
        const result = byId.get(items[i]!.id);
        if (!result) return [r.id, "peer_unreachable"];
        return [r.id, "ok" in result ? undefined : result.error];
      }),
    );
  }

  private async settle(rows: QueueRow[], verdicts: Verdicts): Promise<void> {
    const now = Date.now();
    // The peer answered: what waits in backoff from while it was down goes with the next batch,
    // not minutes later when its own retry comes due.
    if (rows.some((row) => verdicts.get(row.id) === undefined)) this.sql.exec("UPDATE queue SET next_at = ? WHERE next_at > ?", now, now);
    for (const row of rows) {
      const error = verdicts.get(row.id);
      const fate = fateOf(error, row.queued, now, MAILBOX_TTL_MS);
      if (fate === "retry") {
        this.sql.exec("UPDATE queue SET attempts = attempts + 1, next_at = ? WHERE id = ?", now + retryDelay(row.attempts + 1), row.id);
        continue;
      }
      this.sql.exec("DELETE FROM queue WHERE id = ?", row.id);
      if (fate === "bounce" && row.bounce_to) {
        await bounce(this.env, row.bounce_to as Address, {
          ref: row.ref,
          to: row.recipient as Address,
          error: error ?? "peer_unreachable",
          ...(row.conversation ? { conversation: row.conversation as never } : {}),
        });
      }
    }
  }
}

/** The longest prefix of `rows` whose request body stays under `max` bytes (at least one row). */
function withinBytes(rows: QueueRow[], max: number): QueueRow[] {
  let size = 16;
  let n = 0;
  while (n < rows.length) {
    size += rows[n]!.item.length + 1;
    if (size > max && n > 0) break;
    n++;
  }
  return rows.slice(0, n);
}

/** A refusal of the whole batch: input errors are permanent, anything else is worth retrying. */
function wholeBatchError(status: number, text: string): ErrorCode {
  let code: ErrorCode = "peer_unreachable";
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (isErrorCode(body.error)) code = body.error;
  } catch {
    return status >= 500 ? "peer_unreachable" : "bad_request";
  }
  // A peer that cannot check our signature yet (stale key cache) may well accept later.
  if (code === "unauthorized") return "peer_unreachable";
  return code;
}
