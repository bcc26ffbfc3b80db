import * as v from "valibot";
import { ConvWindows } from "./conv-windows.js";
import { entryTextAt, storedItem, type ConvEntries } from "./conv-entries.js";
import { ClientFrameSchema, type ConvPayload, type MailContent, type MailItem, type ServerFrame } from "../shared/wire/index.js";

/**
 * An account's store-and-forward queue (PROTOCOL §6): items are numbered by `seq`, pushed to
 * every open device socket, and kept until every device acknowledged them cumulatively.
 */
export const MAILBOX_SCHEMA = `
CREATE TABLE mailbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL,
  content TEXT NOT NULL, sender TEXT, ref TEXT);
CREATE INDEX mailbox_at ON mailbox(at);`;

/**
 * Rows hold runs: what one delivery stored, as the JSON array of its items (seq and at set), the
 * text pushed to open sockets. A row's `seq` is its last item's, `n` how many it holds, its items
 * numbered on up to it. Rows written before hold one item, its content without seq or at.
 */
export const MAILBOX_RUNS_STEP = "ALTER TABLE mailbox ADD COLUMN n INTEGER NOT NULL DEFAULT 1";

/** A schema step that was replaced by CONV_POSITIONS_STEP the same day; kept, as steps are append-only. */
export const CONV_MARKS_SCHEMA = "CREATE TABLE IF NOT EXISTS conv_marks (conversation TEXT PRIMARY KEY, last INTEGER NOT NULL)";

/** The positions of conv-windows.ts, a row each: read into a conversation's window once, then dropped. */
export const CONV_POSITIONS_STEP = `DROP TABLE IF EXISTS conv_marks;
  CREATE TABLE conv_positions (conversation TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (conversation, position)) WITHOUT ROWID;`;
/** How long an acknowledgement may wait in memory before it is written, and the rows every device has dropped (see ack). */
export const ACK_WRITE_MS = 1000;

/** A row being made of entries' texts (see putConv). */
type Frame = { texts: string[]; size: number; last: number };
type MailRow = { seq: number; n: number; at: number; content: string };
type ExpiredRow = { sender: string | null; ref: string | null; kind: string };

export const PAGE_LIMIT = 500;
/** Target size of one polled page. */
export const PAGE_BYTES = 4 * 1024 * 1024;
/** Target size of one replay frame; WebSocket messages are limited to 1 MiB. */
export const FRAME_BYTES = 512 * 1024;

export interface SocketTag {
  deviceId: string;
}

export class Mailbox {
  private readonly windows: ConvWindows;
  /** The highest seq ever given (SQLite's AUTOINCREMENT counter), once read; this object alone writes rows. */
  private lastGiven: number | undefined;
  /** Acknowledgements not written yet, by device (see ack). */
  private readonly unwritten = new Map<string, number>();
  private ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly ctx: DurableObjectState,
  ) {
    this.windows = new ConvWindows(sql);
  }

  /** Stores an item and pushes it to every open socket. */
  put(content: MailContent, now: number): MailItem {
    return this.putMany([content], now)[0]!;
  }

  /**
   * Stores items in order, a row per frame's worth (see MAILBOX_RUNS_STEP), and pushes each row's
   * text once all are stored: one statement and one JSON text for a delivery, not one per item.
   */
  putMany(contents: MailContent[], now: number): MailItem[] {
    let seq = this.lastSeq();
    return this.store(
      contents.map((content) => ({ ...content, seq: ++seq, at: now }) as MailItem),
      now,
    );
  }

  /** A hub's entries (`indexes` of `entries`), as putMany stores them (`kind` "conv"), from their texts: no object is made of them. */
  putConv(entries: ConvEntries, indexes: number[], now: number): void {
    let seq = this.lastSeq();
    const frames: Frame[] = [];
    let frame: Frame | undefined;
    for (const i of indexes) {
      const text = storedItem(entryTextAt(entries, i), ++seq, now);
      // Counted as framesOf counts an item, its mls and 512 bytes (the text holds more than its mls).
      const bytes = text.length + 512;
      if (!frame || (frame.size > 0 && frame.size + bytes > FRAME_BYTES)) frames.push((frame = { texts: [], size: 0, last: 0 }));
      frame.texts.push(text);
      frame.size += bytes;
      frame.last = seq;
    }
    this.write(frames.map((f) => ({ kind: "conv", text: `[${f.texts.join(",")}]`, n: f.texts.length, last: f.last })), now);
  }

  private store(items: MailItem[], now: number): MailItem[] {
    this.write(
      framesOf(items).map((frame) => ({ kind: frame[0]!.kind, text: JSON.stringify(frame), n: frame.length, last: frame[frame.length - 1]!.seq })),
      now,
    );
    return items;
  }

  /** Writes a row a frame, then pushes each row's text to every open socket. */
  private write(rows: { kind: string; text: string; n: number; last: number }[], now: number): void {
    for (const { kind, text, n, last } of rows) {
      try {
        this.sql.exec("INSERT INTO mailbox (seq, at, kind, content, n) VALUES (?, ?, ?, ?, ?)", last, now, kind, text, n);
      } catch (error) {
        // The transaction is undone: what this object holds of its rows may no longer be so.
        this.lastGiven = undefined;
        this.windows.forget();
        throw error;
      }
      this.lastGiven = last;
    }
    // Pushed once every row is written: a later row failing undoes the earlier ones, and a device
    // must not hold items whose seqs the next delivery is given.
    const sockets = this.ctx.getWebSockets();
    for (const { text } of sockets.length > 0 ? rows : []) {
      const pushed = `{"t":"items","items":${text}}`;
      for (const ws of sockets) send(ws, pushed);
    }
  }

  /**
   * Of a hub's entries (`indexes` of `entries`), those that are no repeat of a position this
   * mailbox stored (see conv-windows.ts), whose positions it records. Call inside the transaction
   * that stores them.
   */
  newEntries(entries: ConvEntries, indexes: number[]): number[] {
    const fresh = this.windows.take(indexes.map((i) => ({ conversation: entries.conversations[entries.conversationOf[i]!]!, position: entries.positions[i]! })));
    return indexes.filter((_, k) => fresh[k]);
  }

  /** Up to `limit` items after `after`, cut short (with `more`) past PAGE_BYTES of content. */
  page(after: number, limit: number): { items: MailItem[]; more: boolean } {
    // Rows every device acknowledged may still be there (see ack): they are gone to any reader.
    const floor = Math.max(after, this.ackedByAll());
    // Every row past the floor holds at least one item past it: limit + 1 rows are enough.
    const rows = this.sql.exec<MailRow>("SELECT seq, n, at, content FROM mailbox WHERE seq > ? ORDER BY seq LIMIT ?", floor, limit + 1).toArray();
    const items: MailItem[] = [];
    let size = 0;
    for (const row of rows) {
      const each = row.content.length / row.n;
      for (const item of itemsOf(row)) {
        if (item.seq <= floor) continue;
        size += each;
        if (items.length === limit || (items.length > 0 && size > PAGE_BYTES)) return { items, more: true };
        items.push(item);
      }
    }
    return { items, more: false };
  }

  /** The seq every device acknowledged: rows up to it are gone to readers, whether trimmed yet or not. */
  private ackedByAll(): number {
    this.writeAcks();
    return this.sql.exec<{ a: number }>("SELECT COALESCE(MIN(acked), 0) AS a FROM devices").one().a;
  }

  /** How many items come after `after`. */
  private countAfter(after: number): number {
    return this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(MIN(n, seq - ?1)), 0) AS n FROM mailbox WHERE seq > ?1", after).one().n;
  }

  /**
   * Cumulative acknowledgement by one device. A device acks each frame: its acks are written at
   * most ACK_WRITE_MS later, all at once, and before anything reads them (an ack lost to a crash
   * only sends those items again, which a device skips by their seq, PROTOCOL §6). Items every
   * device has are dropped with that write, not on an ack (a statement pair an ack was most of
   * its event's cost); until then no reader sees them (page) and expiry does not take them for
   * undelivered (expire). An ack past the last seq given counts as that seq: a device that
   * acknowledged items not yet given would never get them.
   */
  ack(deviceId: string, requested: number): void {
    const upTo = Math.min(requested, this.lastSeq());
    this.unwritten.set(deviceId, Math.max(upTo, this.unwritten.get(deviceId) ?? upTo));
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      this.trim();
    }, ACK_WRITE_MS);
  }

  /** Writes the acknowledgements held in memory; called before every read of them. */
  private writeAcks(): void {
    for (const [deviceId, upTo] of this.unwritten) this.sql.exec("UPDATE devices SET acked = MAX(acked, ?) WHERE device_id = ?", upTo, deviceId);
    this.unwritten.clear();
  }

  trim(): void {
    this.writeAcks();
    this.sql.exec("DELETE FROM mailbox WHERE seq <= (SELECT MIN(acked) FROM devices)");
  }

  /** The highest seq given so far (0 before any): never given again, whatever was trimmed or deleted since. */
  lastSeq(): number {
    this.lastGiven ??= this.sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'mailbox'").toArray()[0]?.seq ?? 0;
    return this.lastGiven;
  }

  /** Forgets what this object remembers of its rows, before they all go (the schema with them). */
  forget(): void {
    this.lastGiven = undefined;
    this.windows.forget();
    this.unwritten.clear();
  }

  /**
   * A page for a polling device, with `left`: how many items come after it (0 on the last page,
   * counted only when more remain), so a device reading a backlog page by page can show its progress.
   */
  polled(after: number, limit: number): { items: MailItem[]; more: boolean; left: number } {
    const { items, more } = this.page(after, limit);
    const last = items[items.length - 1]?.seq ?? after;
    const left = more ? this.countAfter(last) : 0;
    return { items, more, left };
  }

  /**
   * Sends a device everything it has not acknowledged, in frames of at most PAGE_LIMIT items
   * and about FRAME_BYTES (a lone larger item, e.g. a big Welcome, goes alone).
   */
  replay(ws: WebSocket, deviceId: string): void {
    this.writeAcks();
    let after = this.sql.exec<{ acked: number }>("SELECT acked FROM devices WHERE device_id = ?", deviceId).toArray()[0]?.acked ?? 0;
    // Each frame says how many items of this replay come after it, so a device can show its progress.
    let left = this.countAfter(after);
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
    const acked = this.ackedByAll();
    const rows = this.sql.exec<MailRow & ExpiredRow>("DELETE FROM mailbox WHERE at < ? RETURNING seq, n, at, content, sender, ref, kind", cutoff).toArray();
    // A run's conversation items bounce to their authors, as a row of one names its sender and ref;
    // the items of a run some devices acknowledged past are not undelivered.
    return rows.flatMap((row): ExpiredRow[] =>
      isRun(row)
        ? itemsOf(row).flatMap((item) => (item.seq > acked && item.kind === "conv" ? [{ sender: item.from, ref: item.id, kind: item.kind }] : []))
        : [row],
    );
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

function isRun(row: MailRow): boolean {
  return row.content.startsWith("[");
}

/** A row's items: a run's as stored, a row of one from before runs given its seq and at. */
function itemsOf(row: MailRow): MailItem[] {
  if (isRun(row)) return JSON.parse(row.content) as MailItem[];
  return [{ ...(JSON.parse(row.content) as MailContent), seq: row.seq, at: row.at } as MailItem];
}

function send(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch {
    // A socket that is closing throws; the device gets the item again on its next connection.
  }
}
