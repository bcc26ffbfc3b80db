import * as v from "valibot";
import type { Address } from "../shared/address.js";
import { MAX_SQL_PARAMS } from "./sql-schema.js";
import { ClientFrameSchema, type ConvPayload, type MailContent, type MailItem, type ServerFrame } from "../shared/wire/index.js";

/**
 * An account's store-and-forward queue (PROTOCOL §6): items are numbered by `seq`, pushed to
 * every open device socket, and kept until every device acknowledged them cumulatively.
 */
export const MAILBOX_SCHEMA = `
CREATE TABLE mailbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL,
  content TEXT NOT NULL, sender TEXT, ref TEXT);
CREATE INDEX mailbox_at ON mailbox(at);`;

/** A schema step that was replaced by CONV_POSITIONS_STEP the same day; kept, as steps are append-only. */
export const CONV_MARKS_SCHEMA = "CREATE TABLE IF NOT EXISTS conv_marks (conversation TEXT PRIMARY KEY, last INTEGER NOT NULL)";

/**
 * The hub positions of each conversation this mailbox stored, the latest POSITIONS_KEPT of them
 * (PROTOCOL §6): an entry at one of them is a repeat, by a hub or Outbox that re-ran a delivery
 * after a crash, and is not stored again. Only the highest would turn an entry that came late
 * into one dropped in silence; one older than every position kept is taken for a repeat.
 */
export const CONV_POSITIONS_STEP = `DROP TABLE IF EXISTS conv_marks;
  CREATE TABLE conv_positions (conversation TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (conversation, position)) WITHOUT ROWID;`;
const POSITIONS_KEPT = 4096;
/** Positions a conversation moves on between two trims of its kept positions (see trimPositions). */
const TRIM_EVERY = 256;
/** Conversations whose last trim this object remembers at most. */
const MAX_TRIMMED_KEPT = 1000;
/** Seqs a device's acks move on between two drops of the rows every device has (see ack). */
const ACKED_TRIM_EVERY = 64;

/** An entry's place in its hub's order: a commit's Welcome shares its hubSeq and comes after it. */
export function hubPosition(payload: ConvPayload): number {
  return payload.hubSeq * 2 + (payload.type === "welcome" ? 1 : 0);
}

type MailRow = { seq: number; at: number; content: string };
type ExpiredRow = { seq: number; sender: string | null; ref: string | null; kind: string };

export const PAGE_LIMIT = 500;
/** Rows one INSERT statement takes: five bound parameters each. */
const ROWS_PER_INSERT = MAX_SQL_PARAMS / 5;
/** Target size of one polled page. */
export const PAGE_BYTES = 4 * 1024 * 1024;
/** Target size of one replay frame; WebSocket messages are limited to 1 MiB. */
export const FRAME_BYTES = 512 * 1024;

export interface SocketTag {
  deviceId: string;
}

export class Mailbox {
  /** Where each conversation's positions were last trimmed, while this object lives. */
  private readonly trimmedAt = new Map<string, number>();
  /** The ack that last dropped acknowledged rows, while this object lives. */
  private ackTrimmedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sql: SqlStorage,
    private readonly ctx: DurableObjectState,
  ) {}

  /** Stores an item and pushes it to every open socket; `sender`/`ref` let an expired item bounce. */
  put(content: MailContent, now: number, sender?: Address, ref?: string): MailItem {
    return this.putMany([{ content, sender, ref }], now)[0]!;
  }

  /** Stores items in order and pushes them in as few frames as fit, not one frame per item. */
  putMany(entries: { content: MailContent; sender?: Address | undefined; ref?: string | undefined }[], now: number): MailItem[] {
    const items: MailItem[] = [];
    // A statement per chunk of rows, not per item: most of a row's cost is the statement's own.
    for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
      const chunk = entries.slice(i, i + ROWS_PER_INSERT);
      const seqs = this.sql
        .exec<{ seq: number }>(
          `INSERT INTO mailbox (at, kind, content, sender, ref) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")} RETURNING seq`,
          ...chunk.flatMap(({ content, sender, ref }) => [now, content.kind, JSON.stringify(content), sender ?? null, ref ?? null]),
        )
        .toArray()
        .map((r) => r.seq)
        // Rows get increasing seqs in the order they are listed; RETURNING may list them in any order.
        .sort((a, b) => a - b);
      chunk.forEach(({ content }, j) => items.push({ ...content, seq: seqs[j]!, at: now } as MailItem));
    }
    const sockets = this.ctx.getWebSockets();
    if (sockets.length > 0) {
      for (const frame of framesOf(items)) {
        const text = JSON.stringify({ t: "items", items: frame } satisfies ServerFrame);
        for (const ws of sockets) send(ws, text);
      }
    }
    return items;
  }

  /**
   * A hub's entries, less the repeats of positions this mailbox stored (see CONV_POSITIONS_STEP),
   * whose positions it records. Call inside the transaction that stores what it returns.
   */
  newEntries<T extends { content: { conversation: string; hubSeq: number; type: ConvPayload["type"] } }>(entries: T[]): T[] {
    const byConversation = new Map<string, number[]>();
    for (const { content } of entries) {
      const list = byConversation.get(content.conversation) ?? [];
      list.push(hubPosition(content as ConvPayload));
      byConversation.set(content.conversation, list);
    }
    const taken = new Map<string, Set<number>>();
    for (const [conversation, positions] of byConversation) {
      // One statement: the floor (the highest position kept, less POSITIONS_KEPT) is read in it.
      const inserted = this.sql
        .exec<{ position: number }>(
          `INSERT INTO conv_positions (conversation, position) SELECT ?1, value FROM json_each(?2)
           WHERE value > (SELECT COALESCE(MAX(position), -1) FROM conv_positions WHERE conversation = ?1) - ?3
           ON CONFLICT DO NOTHING RETURNING position`,
          conversation,
          JSON.stringify(positions),
          POSITIONS_KEPT,
        )
        .toArray();
      taken.set(conversation, new Set(inserted.map((r) => r.position)));
      this.trimPositions(conversation, Math.max(...positions));
    }
    // Each position taken once, by its first entry in the batch.
    return entries.filter(({ content }) => taken.get(content.conversation)!.delete(hubPosition(content as ConvPayload)));
  }

  /**
   * Drops a conversation's positions more than POSITIONS_KEPT below `top`, once every TRIM_EVERY
   * positions rather than on every batch (a statement each); the first batch after a start trims.
   */
  private trimPositions(conversation: string, top: number): void {
    const trimmed = this.trimmedAt.get(conversation);
    if (trimmed !== undefined && top < trimmed + TRIM_EVERY) return;
    this.sql.exec("DELETE FROM conv_positions WHERE conversation = ? AND position <= ?", conversation, top - POSITIONS_KEPT);
    if (this.trimmedAt.size >= MAX_TRIMMED_KEPT) this.trimmedAt.clear();
    this.trimmedAt.set(conversation, top);
  }

  /** Up to `limit` items after `after`, cut short (with `more`) past PAGE_BYTES of content. */
  page(after: number, limit: number): { items: MailItem[]; more: boolean } {
    // Rows every device acknowledged may still be there (see ack): they are gone to any reader.
    const rows = this.sql
      .exec<MailRow>("SELECT seq, at, content FROM mailbox WHERE seq > MAX(?, (SELECT COALESCE(MIN(acked), 0) FROM devices)) ORDER BY seq LIMIT ?", after, limit + 1)
      .toArray();
    let size = 0;
    let n = 0;
    while (n < Math.min(limit, rows.length)) {
      size += rows[n]!.content.length;
      if (n > 0 && size > PAGE_BYTES) break;
      n++;
    }
    return { items: rows.slice(0, n).map(toItem), more: rows.length > n };
  }

  /**
   * Cumulative acknowledgement by one device. Items every device has are dropped once acks moved
   * ACKED_TRIM_EVERY seqs on, not on every ack (a statement each, and a device acks each frame);
   * until then no reader sees them (page) and expiry does not take them for undelivered (expire).
   */
  ack(deviceId: string, upTo: number): void {
    this.sql.exec("UPDATE devices SET acked = MAX(acked, ?) WHERE device_id = ?", upTo, deviceId);
    if (upTo - this.ackTrimmedAt < ACKED_TRIM_EVERY) return;
    this.ackTrimmedAt = upTo;
    this.trim();
  }

  trim(): void {
    this.sql.exec("DELETE FROM mailbox WHERE seq <= (SELECT MIN(acked) FROM devices)");
  }

  lastSeq(): number {
    return this.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM mailbox").one().s ?? 0;
  }

  /**
   * A page for a polling device, with `left`: how many items come after it (0 on the last page,
   * counted only when more remain), so a device reading a backlog page by page can show its progress.
   */
  polled(after: number, limit: number): { items: MailItem[]; more: boolean; left: number } {
    const { items, more } = this.page(after, limit);
    const last = items[items.length - 1]?.seq ?? after;
    const left = more ? this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM mailbox WHERE seq > ?", last).one().n : 0;
    return { items, more, left };
  }

  /**
   * Sends a device everything it has not acknowledged, in frames of at most PAGE_LIMIT items
   * and about FRAME_BYTES (a lone larger item, e.g. a big Welcome, goes alone).
   */
  replay(ws: WebSocket, deviceId: string): void {
    let after = this.sql.exec<{ acked: number }>("SELECT acked FROM devices WHERE device_id = ?", deviceId).toArray()[0]?.acked ?? 0;
    // Each frame says how many items of this replay come after it, so a device can show its progress.
    let left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM mailbox WHERE seq > ?", after).one().n;
    for (;;) {
      const { items, more } = this.page(after, PAGE_LIMIT);
      for (const frame of framesOf(items)) {
        left = Math.max(0, left - frame.length);
        send(ws, JSON.stringify({ t: "items", items: frame, left } satisfies ServerFrame));
      }
      if (!more || items.length === 0) return;
      after = items[items.length - 1]!.seq;
    }
  }

  /** Removes items older than `cutoff` and returns the ones whose sender should hear they bounced. */
  expire(cutoff: number): ExpiredRow[] {
    this.trim();
    return this.sql.exec<ExpiredRow>("DELETE FROM mailbox WHERE at < ? RETURNING seq, sender, ref, kind", cutoff).toArray();
  }

  oldest(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM mailbox").one().at;
  }

  /** Handles one client frame; returns the reply frame, if any. */
  onFrame(deviceId: string, text: string): ServerFrame | null {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { t: "error", error: "bad_request", message: "A frame must be JSON." };
    }
    const frame = v.safeParse(ClientFrameSchema, parsed);
    if (!frame.success) return { t: "error", error: "bad_request", message: frame.issues[0].message };
    if (frame.output.t === "ping") return { t: "pong" };
    this.ack(deviceId, frame.output.upTo);
    return null;
  }
}

/** The items of `items` frames of about FRAME_BYTES each (a lone larger item goes alone). */
function framesOf(items: MailItem[]): MailItem[][] {
  const frames: MailItem[][] = [];
  let frame: MailItem[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = item.kind === "conv" ? item.mls.length + 512 : 2048;
    if (frame.length > 0 && size + bytes > FRAME_BYTES) {
      frames.push(frame);
      frame = [];
      size = 0;
    }
    frame.push(item);
    size += bytes;
  }
  if (frame.length > 0) frames.push(frame);
  return frames;
}

function toItem(row: MailRow): MailItem {
  return { ...(JSON.parse(row.content) as MailContent), seq: row.seq, at: row.at } as MailItem;
}

function send(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch {
    // A socket that is closing throws; the device gets the item again on its next connection.
  }
}
