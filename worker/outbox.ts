import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import type { Address, Domain } from "../shared/address.js";
import { isErrorCode, type ErrorCode } from "../shared/errors.js";
import { BATCH_NUMBER_BYTES, FederationInboxResponseSchema, MAX_BATCH_ITEMS, MAX_STREAM_FRAME_BYTES, type FedItem } from "../shared/wire/index.js";
import { BodyBuffer } from "./body-buffer.js";
import type { Env } from "./env.js";
import { MAX_SQL_PARAMS, migrate } from "./sql-schema.js";
import { answerText } from "./http.js";
import { fateOf, retryDelay } from "./policy/retry.js";
import { bounce, handed, queuedDelivery, textsOf, type FedDelivery, type Handed, type Handover, type Queued } from "./routing.js";
import { ownKey, peerDocument } from "./key-copies.js";
import { signedPost } from "./federation-client.js";
import { FederationStream, type StreamAnswer } from "./federation-stream.js";
import type { SigningKey } from "./server.js";
import type { DiscoveryDoc, Limits } from "../shared/discovery.js";
import { takeFree, withinLimits } from "./outbox-batch.js";
import { MAILBOX_TTL_MS } from "./account.js";

/** The alarm set when items go to SQLite, should this object stop before it sent them. */
export const SAFETY_ALARM_MS = 5000;
/** How long a peer's discovery document (its API base) is reused before asking the Server object again. */
const PEER_DOC_REUSE_MS = 60_000;
/** A peer that has not answered a batch by then is taken as unreachable (its items are retried). */
const ANSWER_TIMEOUT_MS = 5000;
/**
 * Requests of handed-over items in flight at once. A hub hands a conversation's next entries
 * over only once the previous ones are settled, and a handover split over requests goes one
 * request at a time (see takeFree), so two requests never carry one conversation; more than one
 * lets the sender's busy event loop and the peer overlap. The first requests of a burst carry
 * the few items handed over first: a third keeps the rest from waiting for their answers.
 */
const FRESH_LANES = 3;
// A burst's lulls (every lane answered, nothing new yet) are shorter than this, and a body's memory
// made anew costs more than writing it (worker/body-buffer.ts): in the profile of federated passes,
// letting it go at each lull put its growth at 7% of the sending thread.
const BODIES_KEPT_MS = 10_000;
/**
 * How long a stream stays open once nothing is sent: opening one is a signed request and its
 * answer, which while a burst keeps this thread busy took ~100 ms before the first batch could leave.
 */
const STREAM_KEPT_MS = 60_000;
/** How long a peer that took no stream gets batches by POST before a stream is asked again. */
const POST_ONLY_MS = 10 * 60_000;
/** What a server without streams answers their opening (no such route, or no such method); any other refusal is asked again on the next batch. */
const TAKES_NO_STREAM = new Set([404, 405, 501]);
/** A peer's answer to a batch (a verdict an item, at most MAX_BATCH_ITEMS) is far smaller; a larger one counts as no answer. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

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

/**
 * One call to deliver: resolves once each of its items is delivered, stored or bounced, with the
 * device the peer said is each one's author's only one (null when none). One promise a call, not
 * one an item: a busy hub hands over thousands a second.
 */
class Waiting {
  private left: number;
  readonly sole: (string | null)[];
  constructor(
    size: number,
    private readonly done: (sole: (string | null)[]) => void,
    readonly failed: (error: unknown) => void,
  ) {
    this.left = size;
    this.sole = new Array<string | null>(size).fill(null);
  }

  settled(index: number, soleDevice: string | null | undefined): void {
    this.sole[index] = soleDevice ?? null;
    if (--this.left === 0) this.done(this.sole);
  }
}

/** An item handed over and not yet sent (its JSON text and id), with the call it came in. */
interface Fresh {
  id: string;
  json: string;
  conversation: string;
  waiting: Waiting;
  index: number;
}

/** A handed-over item as it is stored, should it not be delivered now. */
function kept(json: string): Handed {
  return handed(queuedDelivery(JSON.parse(json) as FedDelivery));
}

interface Peer {
  doc: DiscoveryDoc;
  key: SigningKey;
  at: number;
}

/** What one batch attempt told about each item, in order: undefined = delivered. */
type Verdicts = (ErrorCode | undefined)[];
/** A batch attempt's verdicts, and each item's `soleDevice` when the peer gave one. */
type Answer = { verdicts: Verdicts; soleDevices: (string | null)[] };

/**
 * One remote domain's outgoing traffic, few requests in flight at a time: whatever arrives while
 * they are in flight leaves together with the next one, so a busy server sends few large
 * requests. Items are stored in SQLite (enqueue), or, for a hub's fan-out, whose log keeps them
 * anyway, held in memory until the peer answers (deliver); what fails is stored then, retried
 * with exponential backoff on alarms, and bounced to the local sender when it fails for good.
 * While anything waits in SQLite, new items queue behind it there, so a peer always gets each
 * conversation's items, and the stored ones, in order (PROTOCOL §7).
 */
export class OutboxObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The one run sending items; enqueue and alarm both join it rather than start another. */
  private pumping: Promise<void> | null = null;
  /** Items were stored while a run was in flight: it looks again before it ends. */
  private more = false;
  private fresh: Fresh[] = [];
  /** Requests of handed-over items in flight. */
  private lanes = 0;
  /** Request bodies' memory (one per request in flight), let go once the Outbox has been idle BODIES_KEPT_MS. */
  private readonly bodies: BodyBuffer[] = [];
  private bodiesTimer: ReturnType<typeof setTimeout> | null = null;
  private streamTimer: ReturnType<typeof setTimeout> | null = null;
  /** Conversations whose items those requests carry. */
  private readonly flying = new Set<string>();
  /** Wakes the run waiting for a lane to free or for new items. */
  private nudge: (() => void) | undefined;
  /** Whether SQLite holds items; undefined until read. */
  private stored: boolean | undefined;
  private peer: Peer | undefined;
  /** The stream to the peer batches go on, once opened. */
  private stream: FederationStream | undefined;
  private opening: Promise<FederationStream | null> | undefined;
  /** Until then the peer gets batches by POST (it answered a stream's opening without upgrading). */
  private postOnlyUntil = 0;
  /** The meta row naming the domain is written. */
  private named = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, STEPS);
  }

  /** Stores items for delivery; resolves once they are durable (the send starts at once). */
  async enqueue(domain: Domain, items: Queued[]): Promise<void> {
    this.name(domain);
    this.store(items.map(handed), 0, Date.now());
    // Not awaited: the output gate holds this call's answer until the items are durable.
    void this.pump();
    await this.wakeAt(Date.now() + SAFETY_ALARM_MS);
  }

  /**
   * A hub's fan-out: the items go with the next batch, from memory, and this resolves once each
   * is delivered, stored for a retry, or bounced; the hub's log keeps them until then. Never
   * called while handling a peer's request, which would then wait for that peer's answer to us.
   * Resolves with each item's `soleDevice` from the peer's answer (§7), null when it gave none.
   */
  async deliver(domain: Domain, handover: Handover): Promise<(string | null)[]> {
    const { conversation, ids } = handover;
    if (ids.length === 0) return [];
    this.name(domain);
    const texts = textsOf(handover);
    if (this.hasStored()) {
      this.store(texts.map(kept), 0, Date.now());
      void this.pump();
      await this.wakeAt(Date.now() + SAFETY_ALARM_MS);
      return ids.map(() => null);
    }
    const all = new Promise<(string | null)[]>((done, failed) => {
      const waiting = new Waiting(ids.length, done, failed);
      texts.forEach((json, index) => this.fresh.push({ id: ids[index]!, json, conversation, waiting, index }));
    });
    void this.pump();
    this.wake();
    return all;
  }

  private name(domain: Domain): void {
    if (this.named) return;
    this.sql.exec("INSERT OR IGNORE INTO meta (id, domain) VALUES (1, ?)", domain);
    this.named = true;
  }

  /** Number of items waiting, for tests and operators. */
  async pending(): Promise<number> {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n + this.fresh.length;
  }

  private hasStored(): boolean {
    this.stored ??= this.sql.exec("SELECT 1 FROM queue LIMIT 1").toArray().length > 0;
    return this.stored;
  }

  private store(items: Handed[], attempts: number, nextAt: number): void {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const q of items) {
        this.sql.exec(
          "INSERT INTO queue (item, bounce_to, ref, recipient, conversation, queued, attempts, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          q.json,
          q.bounceTo,
          q.ref,
          q.to,
          q.conversation ?? null,
          now,
          attempts,
          nextAt,
        );
      }
    });
    this.stored = true;
    this.more = true;
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
    clearTimeout(this.bodiesTimer);
    clearTimeout(this.streamTimer);
    this.pumping = this.drain().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  /**
   * Sends what was handed over (up to FRESH_LANES requests at once), then due stored items (one
   * request at a time, once no handed-over batch is in flight), in batches until none is left,
   * then sets the alarm for the next retry, if any.
   */
  private async drain(): Promise<void> {
    const meta = this.sql.exec<{ domain: string }>("SELECT domain FROM meta").toArray()[0];
    if (!meta) return;
    const domain = meta.domain as Domain;
    for (;;) {
      if (this.fresh.length > 0 && this.hasStored()) {
        this.storeFresh(this.fresh.splice(0));
        continue;
      }
      if (this.fresh.length > 0 && this.lanes < FRESH_LANES) {
        const limits = await this.limitsOf(domain);
        // Read after the await: items handed over meanwhile go too.
        const { taken, left } = takeFree(this.fresh, this.flying, limits);
        if (taken.length > 0) {
          this.fresh = left;
          this.startLane(domain, taken);
          continue;
        }
      }
      if (this.lanes > 0) {
        await new Promise<void>((wake) => (this.nudge = wake));
        continue;
      }
      const now = Date.now();
      const rows = this.dueRows(now);
      if (rows.length > 0) {
        const batch = rows.slice(0, withinLimits(rows, (r) => r.item, await this.limitsOf(domain)));
        await this.settle(batch, (await this.send(domain, batch.map((r) => ({ id: (JSON.parse(r.item) as FedItem).id, json: r.item })))).verdicts);
        continue;
      }
      this.more = false;
      // Rows left now wait for a retry, or behind one of their conversation's that does.
      const next = this.sql.exec<{ at: number | null }>("SELECT MIN(next_at) AS at FROM queue WHERE next_at > ?", now).one().at;
      this.stored = next !== null;
      if (next !== null) await this.ctx.storage.setAlarm(next);
      // Items handed over or stored while the alarm was being set are not left for the alarm.
      if (!this.more && this.fresh.length === 0) {
        this.bodiesTimer = setTimeout(() => (this.bodies.length = 0), BODIES_KEPT_MS);
        this.streamTimer = setTimeout(() => this.closeStream(), STREAM_KEPT_MS);
        return;
      }
    }
  }

  /**
   * Stored items that may leave now, in queue order: due, and not behind an item of their
   * conversation that waits longer. Each row backs off on its own (one that was queued while
   * the peer was down is due sooner than one that failed more often), so taking every due row
   * let a conversation's newer entries reach the peer before older ones (issue 15).
   */
  private dueRows(now: number): QueueRow[] {
    return this.sql
      .exec<QueueRow>(
        `WITH held AS (SELECT conversation, MIN(id) AS first FROM queue WHERE next_at > ?1 AND conversation IS NOT NULL GROUP BY conversation)
         SELECT q.* FROM queue q WHERE q.next_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM held WHERE held.conversation = q.conversation AND held.first < q.id)
         ORDER BY q.id LIMIT ?2`,
        now,
        MAX_BATCH_ITEMS,
      )
      .toArray();
  }

  /** Sends `batch` as a request of its own; its conversations wait for its answer. */
  private startLane(domain: Domain, batch: Fresh[]): void {
    const conversations = new Set(batch.map((f) => f.conversation));
    for (const c of conversations) this.flying.add(c);
    this.lanes++;
    void this.sendFresh(domain, batch)
      // Its outcome could not be kept (storage failed): the hub's fan-out fails and hands it over again later.
      .catch((error: unknown) => batch.forEach((f) => f.waiting.failed(error)))
      .finally(() => {
        for (const c of conversations) this.flying.delete(c);
        this.lanes--;
        this.wake();
      });
  }

  private wake(): void {
    const nudge = this.nudge;
    this.nudge = undefined;
    nudge?.();
  }

  private storeFresh(batch: Fresh[]): void {
    this.store(batch.map((f) => kept(f.json)), 0, Date.now());
    for (const f of batch) f.waiting.settled(f.index, null);
  }

  /** One batch of handed-over items: what the peer took is done, the rest is stored or bounced. */
  private async sendFresh(domain: Domain, batch: Fresh[]): Promise<void> {
    const { verdicts, soleDevices } = await this.send(domain, batch);
    const now = Date.now();
    const retry: Handed[] = [];
    for (const [i, f] of batch.entries()) {
      const error = verdicts[i];
      const fate = fateOf(error, now, now, MAILBOX_TTL_MS);
      if (fate === "done") continue;
      const q = kept(f.json);
      if (fate === "retry") retry.push(q);
      else await this.bounceItem(q.bounceTo, q.ref, q.to, q.conversation, error);
    }
    if (retry.length > 0) {
      this.store(retry, 1, now + retryDelay(1));
      await this.wakeAt(now + retryDelay(1));
    }
    batch.forEach((f, i) => f.waiting.settled(f.index, soleDevices[i]));
  }

  /**
   * The peer's document and our signing key, reused for a while: asking the Server object for
   * both on every batch puts two calls to one object shared by the whole server on each send.
   * Read through the isolate's copies, so the Outboxes of many peers share one refresh.
   */
  private async peerOf(domain: Domain): Promise<Peer> {
    if (this.peer && Date.now() - this.peer.at < PEER_DOC_REUSE_MS) return this.peer;
    this.peer = { doc: await peerDocument(this.env, domain), key: await ownKey(this.env), at: Date.now() };
    return this.peer;
  }

  /**
   * The stream batches go on (PROTOCOL §7), opened on first use and replaced once it is
   * STREAM_REUSE_MS old (the one before closes when its batches are answered); null while the
   * peer takes batches by POST only, asked again after POST_ONLY_MS, or when it cannot be opened
   * now (the POST then finds out whether the peer is reachable).
   */
  private async streamTo(peer: Peer, signal: AbortSignal): Promise<FederationStream | null> {
    const now = Date.now();
    if (this.stream?.usable(now)) return this.stream;
    this.closeStream();
    if (now < this.postOnlyUntil) return null;
    this.opening ??= FederationStream.open(this.env, peer.doc, peer.key, signal)
      .then(
        (opened) => {
          if (opened instanceof FederationStream) return (this.stream = opened);
          if (TAKES_NO_STREAM.has(opened.refused)) this.postOnlyUntil = Date.now() + POST_ONLY_MS;
          return null;
        },
        () => null,
      )
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** The stream takes no new batches and closes once those on it are answered; the next batch opens another. */
  private closeStream(): void {
    this.stream?.retire();
    this.stream = undefined;
  }

  /** The peer's document and our key are read again on the next send, and a stream opened anew. */
  private forgetPeer(): void {
    this.peer = undefined;
    this.closeStream();
  }

  /** The peer's limits, undefined when its document cannot be had (the send then fails as a whole). */
  private async limitsOf(domain: Domain): Promise<Limits | undefined> {
    try {
      return (await this.peerOf(domain)).doc.limits;
    } catch {
      return undefined;
    }
  }

  /** Sends one batch of items (with their JSON text) on the peer's stream, or as a signed POST; a failure of the whole batch applies to every item in it. */
  private async send(domain: Domain, items: { id: string; json: string }[]): Promise<Answer> {
    const all = (code: ErrorCode): Answer => ({ verdicts: items.map(() => code), soleDevices: items.map(() => null) });
    let answer: StreamAnswer;
    // Aborted only while the request is open: workerd's AbortSignal.timeout also fires after the
    // answer was read, and that broke later requests to the same peer.
    const silence = new AbortController();
    const timer = setTimeout(() => silence.abort(), ANSWER_TIMEOUT_MS);
    try {
      const peer = await this.peerOf(domain);
      // A buffer back in the pool only once the answer is read: the peer has had the whole body.
      const body = this.bodies.pop() ?? new BodyBuffer();
      const frame = batchFrame(body, items);
      const stream = frame.byteLength <= MAX_STREAM_FRAME_BYTES ? await this.streamTo(peer, silence.signal) : null;
      if (stream) answer = await stream.send(frame, silence.signal);
      else {
        const res = await signedPost(this.env, peer.doc, peer.key, "/inbox", frame.subarray(BATCH_NUMBER_BYTES), silence.signal);
        answer = { status: res.status, text: await answerText(res, MAX_ANSWER_BYTES) };
      }
      this.bodies.push(body);
    } catch {
      // Unreachable, silent, or its discovery document cannot be had now: retry, then bounce at TTL.
      this.forgetPeer();
      return all("peer_unreachable");
    } finally {
      clearTimeout(timer);
    }
    const { status, text } = answer;
    if (status < 200 || status > 299) {
      // Perhaps it moved or changed keys: the next attempt asks for its document again.
      this.forgetPeer();
      return all(wholeBatchError(status, text));
    }
    let parsed;
    try {
      parsed = v.safeParse(FederationInboxResponseSchema, JSON.parse(text));
    } catch {
      return all("peer_unreachable");
    }
    if (!parsed.success) return all("peer_unreachable");
    const byId = new Map(parsed.output.results.map((r) => [r.id, r]));
    const results = items.map((item) => byId.get(item.id));
    return {
      verdicts: results.map((result) => (!result ? "peer_unreachable" : "ok" in result ? undefined : result.error)),
      soleDevices: results.map((result) => (result && "ok" in result ? (result.soleDevice ?? null) : null)),
    };
  }

  private async settle(rows: QueueRow[], verdicts: Verdicts): Promise<void> {
    const now = Date.now();
    // The peer answered: what waits in backoff from while it was down goes with the next batch,
    // not minutes later when its own retry comes due.
    const delivered = rows.filter((_, i) => verdicts[i] === undefined).map((row) => row.id);
    if (delivered.length > 0) this.sql.exec("UPDATE queue SET next_at = ? WHERE next_at > ?", now, now);
    // Delivered items leave in a statement per chunk, not one each; the rest one by one below.
    for (let i = 0; i < delivered.length; i += MAX_SQL_PARAMS) {
      const chunk = delivered.slice(i, i + MAX_SQL_PARAMS);
      this.sql.exec(`DELETE FROM queue WHERE id IN (${chunk.map(() => "?").join(",")})`, ...chunk);
    }
    for (const [i, row] of rows.entries()) {
      const error = verdicts[i];
      const fate = fateOf(error, row.queued, now, MAILBOX_TTL_MS);
      if (fate === "done") continue;
      if (fate === "retry") {
        this.sql.exec("UPDATE queue SET attempts = attempts + 1, next_at = ? WHERE id = ?", now + retryDelay(row.attempts + 1), row.id);
        continue;
      }
      this.sql.exec("DELETE FROM queue WHERE id = ?", row.id);
      await this.bounceItem(row.bounce_to as Address | null, row.ref, row.recipient as Address, row.conversation ?? undefined, error);
    }
  }

  private async bounceItem(to: Address | null, ref: string, recipient: Address, conversation: string | undefined, error: ErrorCode | undefined): Promise<void> {
    if (!to) return;
    await bounce(this.env, to, { ref, to: recipient, error: error ?? "peer_unreachable", ...(conversation ? { conversation: conversation as never } : {}) });
  }
}

/** A batch's stream frame: room for its number, then the inbox body (a POST sends the body alone). */
function batchFrame(body: BodyBuffer, items: { json: string }[]): Uint8Array {
  body.clear(BATCH_NUMBER_BYTES);
  body.append('{"items":[');
  items.forEach((item, i) => {
    if (i > 0) body.append(",");
    body.append(item.json);
  });
  body.append("]}");
  return body.view();
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
