import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import type { Address, Domain } from "../shared/address.js";
import { isErrorCode, type ErrorCode } from "../shared/errors.js";
import { FederationInboxResponseSchema, MAX_BATCH_ITEMS, type FedItem } from "../shared/wire/index.js";
import type { Env } from "./env.js";
import { migrate } from "./sql-schema.js";
import { fateOf, retryDelay } from "./policy/retry.js";
import { bounce, serverOf, type Queued } from "./routing.js";
import { signedPost } from "./federation-client.js";
import { unwrap } from "./outcome.js";
import type { SigningKey } from "./server.js";
import { DEFAULT_LIMITS, type DiscoveryDoc } from "../shared/discovery.js";
import { MAILBOX_TTL_MS } from "./account.js";

/**
 * The alarm set when items are queued, should this object stop before it sent them; the send
 * itself starts at once, and what arrives while a request is in flight leaves with the next one.
 */
export const SAFETY_ALARM_MS = 5000;
/** How long a peer's discovery document (its API base) is reused before asking the Server object again. */
const PEER_DOC_REUSE_MS = 60_000;
/** Bound parameters one SQL statement of a Durable Object may take. */
const MAX_SQL_PARAMS = 100;

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

interface Peer {
  doc: DiscoveryDoc;
  key: SigningKey;
  at: number;
}

/** What one batch attempt told about each item: undefined = delivered. */
type Verdicts = Map<number, ErrorCode | undefined>;

/**
 * One remote domain's outgoing queue: durable in SQLite, sent in batches, retried with
 * exponential backoff on alarms, and bounced to the local sender when it fails for good.
 */
export class OutboxObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The one run sending due items; enqueue and alarm both join it rather than start another. */
  private pumping: Promise<void> | null = null;
  /** Items were queued while a run was in flight: it looks again before it ends. */
  private more = false;
  private peer: Peer | undefined;

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
    // Not awaited: delivery is this object's job. The output gate holds the request until the
    // items are durable, so it may start before the alarm is set.
    void this.pump();
    await this.wakeAt(now + SAFETY_ALARM_MS);
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
    await this.pump();
  }

  private pump(): Promise<void> {
    if (this.pumping) {
      this.more = true;
      return this.pumping;
    }
    this.pumping = this.drain().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  /** Sends due items in batches until none is due, then sets the alarm for the next retry, if any. */
  private async drain(): Promise<void> {
    const meta = this.sql.exec<{ domain: string }>("SELECT domain FROM meta").toArray()[0];
    if (!meta) return;
    for (;;) {
      const rows = this.sql
        .exec<QueueRow>("SELECT * FROM queue WHERE next_at <= ? ORDER BY id LIMIT ?", Date.now(), MAX_BATCH_ITEMS)
        .toArray();
      if (rows.length > 0) {
        const batch = withinBytes(rows, DEFAULT_LIMITS.maxFederationBodyBytes);
        await this.settle(batch, await this.send(meta.domain as Domain, batch));
        continue;
      }
      this.more = false;
      const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM queue").one().at;
      if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()));
      // Items queued while the alarm was being set joined this run; they are not left for the alarm.
      if (!this.more) return;
    }
  }

  /**
   * The peer's document and our signing key, reused for a while: asking the Server object for
   * both on every batch puts two calls to one object shared by the whole server on each send.
   */
  private async peerOf(domain: Domain): Promise<Peer> {
    if (this.peer && Date.now() - this.peer.at < PEER_DOC_REUSE_MS) return this.peer;
    const server = serverOf(this.env);
    const doc = unwrap(await server.peerDoc(domain)) as DiscoveryDoc;
    this.peer = { doc, key: await server.signingKey(), at: Date.now() };
    return this.peer;
  }

  /** POSTs one signed batch; a failure of the whole request applies to every item in it. */
  private async send(domain: Domain, rows: QueueRow[]): Promise<Verdicts> {
    const all = (code: ErrorCode): Verdicts => new Map(rows.map((r) => [r.id, code]));
    const items = rows.map((r) => JSON.parse(r.item) as FedItem);
    let res: Response;
    try {
      const peer = await this.peerOf(domain);
      res = await signedPost(this.env, peer.doc, peer.key, "/inbox", { items });
    } catch {
      // Unreachable, or its discovery document cannot be had now: retry, then bounce at TTL.
      this.peer = undefined;
      return all("peer_unreachable");
    }
    const text = await res.text();
    if (!res.ok) {
      // Perhaps it moved or changed keys: the next attempt asks for its document again.
      this.peer = undefined;
      return all(wholeBatchError(res.status, text));
    }
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
    const delivered = rows.filter((row) => verdicts.get(row.id) === undefined).map((row) => row.id);
    if (delivered.length > 0) this.sql.exec("UPDATE queue SET next_at = ? WHERE next_at > ?", now, now);
    // Delivered items leave in a statement per chunk, not one each; the rest one by one below.
    for (let i = 0; i < delivered.length; i += MAX_SQL_PARAMS) {
      const chunk = delivered.slice(i, i + MAX_SQL_PARAMS);
      this.sql.exec(`DELETE FROM queue WHERE id IN (${chunk.map(() => "?").join(",")})`, ...chunk);
    }
    for (const row of rows) {
      const error = verdicts.get(row.id);
      const fate = fateOf(error, row.queued, now, MAILBOX_TTL_MS);
      if (fate === "done") continue;
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
