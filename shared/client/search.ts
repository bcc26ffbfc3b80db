import type { CoreContext } from "./context.js";
import { findMessage, type MessageRecord } from "./messages.js";
import { StoreBatch } from "./store-batch.js";

/**
 * Message search over this device's store. Every store adapter seals each value (the PWA's
 * IndexedDB with AES-GCM), so reading all messages to search them costs one decryption each; the
 * words are kept instead, folded, in buckets of up to 1,000 messages, and a search opens about one
 * value per thousand messages, once: then they are kept in memory. A message edited later loses its
 * old entry and gets a new one; one deleted or expired loses its entry. Hits are read back from the
 * messages themselves, so one deleted meanwhile is not shown.
 */

/** `[id, conversation, at, folded words]`; the words are "" for a deleted message indexed before deletes were removed. */
type Entry = [string, string, number, string];

interface Head {
  bucket: number;
  count: number;
}

const BUCKET_SIZE = 1000;

/**
 * The words as last read, per store, with the head they were read at: the first search after the
 * app opens reads every bucket, later ones only the buckets written since (whoever wrote them; a
 * mailbox frame's writes go through a batch over the store).
 */
const loaded = new WeakMap<object, { head: Head; latest: Map<string, Entry> }>();
const HEAD = "search-head";
const bucketKey = (n: number) => `search/${String(n).padStart(9, "0")}`;

/** Case, accents and compatibility forms do not matter: "Cafe" finds "café" and "ＣＡＦＥ". */
export function foldText(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

function entryOf(message: MessageRecord): Entry {
  return [message.id, message.conversation, message.at, message.deleted ? "" : foldText(message.text)];
}

/**
 * Adds what `messages` say now to the search words (a text sent or read, or one edited or deleted).
 * A changed message's earlier words are removed first, and a deleted one keeps none.
 */
export async function indexMessages(ctx: Pick<CoreContext, "store">, messages: readonly MessageRecord[]): Promise<void> {
  // A mailbox frame's messages are indexed once, as its batch is written: a bucket of a thousand
  // entries rewritten once a frame, not once a message.
  if (ctx.store instanceof StoreBatch) return ctx.store.gather("search", messages, (store, all) => indexNow({ store }, lastOfEach(all)));
  await indexNow(ctx, messages);
}

/** Each message as it is last: the words it had before stay in no bucket. */
function lastOfEach(messages: readonly MessageRecord[]): MessageRecord[] {
  return [...new Map(messages.map((m) => [m.id, m])).values()];
}

async function indexNow(ctx: Pick<CoreContext, "store">, messages: readonly MessageRecord[]): Promise<void> {
  const shown = messages.filter((m) => !m.notice);
  const changed = shown.filter((m) => m.deleted || m.editedAt !== undefined);
  if (changed.length > 0) await unindexMessages(ctx, changed.map((m) => m.id));
  const entries = shown.filter((m) => !m.deleted).map(entryOf);
  if (entries.length === 0) return;
  let head = (await ctx.store.get<Head>(HEAD)) ?? (await rebuild(ctx));
  let at = 0;
  while (at < entries.length) {
    if (head.count >= BUCKET_SIZE) head = { bucket: head.bucket + 1, count: 0 };
    const bucket = (await ctx.store.get<Entry[]>(bucketKey(head.bucket))) ?? [];
    const taken = entries.slice(at, at + BUCKET_SIZE - head.count);
    await ctx.store.put(bucketKey(head.bucket), [...bucket, ...taken]);
    head = { bucket: head.bucket, count: head.count + taken.length };
    at += taken.length;
  }
  await ctx.store.put(HEAD, head);
}

/**
 * Removes every entry of these messages (expired, deleted or about to be re-added), so their words
 * stay nowhere on the device. Reads each bucket once (about one per thousand messages) and writes
 * back those that held one. The head never goes back: a reader's cached copy then still notices
 * the next message added, and its stale entries are checked against the messages themselves.
 */
export async function unindexMessages(ctx: Pick<CoreContext, "store">, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  for (const [key, bucket] of await ctx.store.list<Entry[]>("search/")) {
    const kept = bucket.filter(([id]) => !gone.has(id));
    if (kept.length !== bucket.length) await ctx.store.put(key, kept);
  }
  const cached = loaded.get(ctx.store)?.latest;
  for (const id of ids) cached?.delete(id);
}

/** Messages stored before search existed are indexed once, on the first use. */
async function rebuild(ctx: Pick<CoreContext, "store">): Promise<Head> {
  const all = (await ctx.store.list<MessageRecord>("msg/")).map(([, m]) => m).filter((m) => !m.notice);
  let bucket = 0;
  for (let i = 0; i < all.length; i += BUCKET_SIZE, bucket++) await ctx.store.put(bucketKey(bucket), all.slice(i, i + BUCKET_SIZE).map(entryOf));
  const head = all.length === 0 ? { bucket: 0, count: 0 } : { bucket: bucket - 1, count: all.length - (bucket - 1) * BUCKET_SIZE };
  await ctx.store.put(HEAD, head);
  return head;
}

async function entries(ctx: Pick<CoreContext, "store">): Promise<Map<string, Entry>> {
  const head = (await ctx.store.get<Head>(HEAD)) ?? (await rebuild(ctx));
  const known = loaded.get(ctx.store);
  if (known && known.head.bucket === head.bucket && known.head.count === head.count) return known.latest;
  const latest = known?.latest ?? new Map<string, Entry>();
  if (known) {
    // The last bucket read may have grown, and later ones are new: read them again in order.
    for (let n = known.head.bucket; n <= head.bucket; n++) for (const entry of (await ctx.store.get<Entry[]>(bucketKey(n))) ?? []) latest.set(entry[0], entry);
  } else {
    for (const [, bucket] of await ctx.store.list<Entry[]>("search/")) for (const entry of bucket) latest.set(entry[0], entry);
  }
  loaded.set(ctx.store, { head, latest });
  return latest;
}

export interface SearchOptions {
  /** Only this conversation's messages. */
  conversation?: string;
  limit?: number;
}

/**
 * Messages holding every word of `query` (folded, anywhere in the text), newest first. An empty
 * query finds nothing.
 */
export async function searchMessages(ctx: Pick<CoreContext, "store">, query: string, { conversation, limit = 50 }: SearchOptions = {}): Promise<MessageRecord[]> {
  const words = foldText(query).split(/\s+/u).filter((w) => w !== "");
  if (words.length === 0) return [];
  const hits = [...(await entries(ctx)).values()]
    // A first text to a friend is kept under "@address" until its conversation exists: checked on the message itself.
    .filter(([, conv, , text]) => (conversation === undefined || conv === conversation || conv.startsWith("@")) && words.every((w) => text.includes(w)))
    .sort((a, b) => b[2] - a[2]);
  const found: MessageRecord[] = [];
  // Read a page of hits at once: one read after another costs a round trip each in IndexedDB.
  for (let at = 0; at < hits.length && found.length < limit; at += limit) {
    const page = await Promise.all(hits.slice(at, at + limit).map(([id]) => findMessage(ctx, id)));
    for (const message of page) {
      if (found.length < limit && message && !message.deleted && (conversation === undefined || message.conversation === conversation)) found.push(message);
    }
  }
  return found;
}
