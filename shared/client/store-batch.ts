import { type GroupState } from "../mls/group-state.js";
import type { Processed } from "../mls/receive.js";
import { deferGroupState, dropDeferred, encodeDeferred, encodeGroupState, isDeferred } from "../mls/state-codec.js";
import type { Store } from "./store.js";
import type { Content } from "../content.js";

/**
 * A store whose `putMany` applies a set of writes all at once or not at all (one IndexedDB
 * transaction, one map update): a crash leaves either every write of the set or none.
 */
export interface BatchStore extends Store {
  /** Each entry is a put, or a delete where the value is undefined. */
  putMany(entries: Array<[string, unknown]>): Promise<void>;
  /** The values of `keys` (undefined where absent), read at once (one IndexedDB transaction). */
  getMany(keys: readonly string[]): Promise<unknown[]>;
}

/** A message read ahead: what it gave, or why it could not be read (it is read with the same state again never). */
/** What reading a message ahead gave; an application message's content comes decoded, when it could be. */
export type ReadAhead = { processed: Processed; content?: Content } | { error: unknown };

export function canBatch(store: Store): store is BatchStore {
  return typeof (store as Partial<BatchStore>).putMany === "function";
}

/**
 * Writes kept in memory over a store until `commit` hands them to it in one `putMany`: a mailbox
 * frame's items are applied here, so each record is read once and written once per frame instead
 * of once per message (each write is a sealed IndexedDB transaction in the PWA). Values are copied
 * in and out, as a real store would, so callers never share objects with it.
 */
export class StoreBatch implements Store {
  readonly #base: BatchStore;
  // A key's value as this batch sees it: written here, or read from the base once; undefined = absent.
  readonly #seen = new Map<string, unknown>();
  readonly #written = new Set<string>();
  readonly #deferred = new Set<string>();
  // The stand-in text of each state deferred here, so a state's text is the same wherever it is asked.
  readonly #texts = new Map<GroupState, string>();
  // Prefixes whose every entry in the base is in #seen: a key under one that is not there is absent.
  // Each with the keys under it this batch has seen, so listing it looks at those, not at every key.
  readonly #listed = new Map<string, Set<string>>();
  // What reading a message with a state gave, by the state's text, then the message (see readAhead).
  readonly #readAhead = new Map<string, Map<string, ReadAhead>>();
  // Work put off until the commit, in the order it was first asked for (see gather).
  readonly #gathered = new Map<string, { items: unknown[]; flush: (store: Store, items: unknown[]) => Promise<void> }>();
  // The batch handed over before this one, while its writes are on their way to the store (see handOver).
  #before: StoreBatch | undefined;
  // This batch's writes once handed over, until the store has them: what later batches read them from.
  #handed: Map<string, unknown> | undefined;

  /** `before`: a batch handed over whose writes may not be in the store yet; this one reads them as if they were. */
  constructor(base: BatchStore, before?: StoreBatch) {
    this.#base = base;
    this.#before = before;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const value = await this.peek<T>(key);
    return value === undefined ? undefined : (copyOf(value) as T);
  }

  /** The value as get gives it, but this batch's own, not a copy: to read from there and then, never to change or keep. */
  async peek<T>(key: string): Promise<Readonly<T> | undefined> {
    if (!this.#seen.has(key)) {
      const pending = this.#pending(key);
      this.#see(key, pending ? copyOf(pending.value) : this.#listing(key) ? undefined : await this.#base.get(key));
    }
    return this.#seen.get(key) as T | undefined;
  }

  /** The writes of the batches before this one still on their way to the store, the latest first. */
  *#stillHanded(): Generator<Map<string, unknown>> {
    for (let batch = this.#before; batch !== undefined && batch.#handed !== undefined; batch = batch.#before) yield batch.#handed;
  }

  /** What a batch before this one, still being written, wrote to `key` (undefined: none of them did). */
  #pending(key: string): { value: unknown } | undefined {
    for (const handed of this.#stillHanded()) if (handed.has(key)) return { value: handed.get(key) };
    return undefined;
  }

  /** The keys under `prefix` that batches before this one, still being written, wrote (or deleted). */
  #pendingUnder(prefix: string): string[] {
    const keys = new Set<string>();
    for (const handed of this.#stillHanded()) for (const key of handed.keys()) if (key.startsWith(prefix)) keys.add(key);
    return [...keys];
  }

  /** `listing` (the base store's entries under `prefix`) with what batches before this one are still writing there. */
  #withPending(prefix: string, listing: Array<[string, unknown]>): Map<string, unknown> {
    const merged = new Map(listing);
    for (const key of this.#pendingUnder(prefix)) {
      const value = this.#pending(key)!.value;
      if (value === undefined) merged.delete(key);
      else merged.set(key, copyOf(value));
    }
    return merged;
  }

  /** The listed prefix `key` is under, if any. */
  #listing(key: string): string | undefined {
    for (const prefix of this.#listed.keys()) if (key.startsWith(prefix)) return prefix;
    return undefined;
  }

  #see(key: string, value: unknown): void {
    this.#seen.set(key, value);
    const prefix = this.#listing(key);
    if (prefix !== undefined) this.#listed.get(prefix)!.add(key);
  }

  /**
   * Reads `keys`, and every entry under `prefixes`, from the base at once, so the batch's later
   * reads of them (and of absent keys under those prefixes) cost no round trip to the store each.
   */
  async prefetch(keys: readonly string[], prefixes: readonly string[] = []): Promise<void> {
    for (const key of keys) {
      const pending = this.#seen.has(key) ? undefined : this.#pending(key);
      if (pending) this.#see(key, copyOf(pending.value));
    }
    const wanted = [...new Set(keys)].filter((key) => !this.#seen.has(key) && this.#listing(key) === undefined);
    const fresh = [...new Set(prefixes)].filter((prefix) => this.#listing(prefix) === undefined);
    const [values, listings] = await Promise.all([
      wanted.length > 0 ? this.#base.getMany(wanted) : [],
      Promise.all(fresh.map((prefix) => this.#base.list(prefix))),
    ]);
    wanted.forEach((key, i) => {
      if (!this.#seen.has(key)) this.#see(key, values[i]);
    });
    fresh.forEach((prefix, i) => {
      const listing = this.#withPending(prefix, listings[i]!);
      const under = new Set([...this.#seen.keys()].filter((key) => key.startsWith(prefix)));
      for (const key of [...listing.keys(), ...this.#pendingUnder(prefix)]) under.add(key);
      for (const key of under) if (!this.#seen.has(key)) this.#seen.set(key, listing.get(key));
      this.#listed.set(prefix, under);
    });
  }

  async put(key: string, value: unknown): Promise<void> {
    this.#see(key, copyOf(value));
    this.#written.add(key);
  }

  async delete(key: string): Promise<void> {
    this.#see(key, undefined);
    this.#written.add(key);
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    const listed = this.#listing(prefix);
    if (listed !== undefined) {
      const keys = [...this.#listed.get(listed)!].filter((key) => key.startsWith(prefix) && this.#seen.get(key) !== undefined).sort();
      return keys.map((key): [string, T] => [key, copyOf(this.#seen.get(key)) as T]);
    }
    const merged = this.#withPending(prefix, await this.#base.list(prefix));
    for (const key of this.#written) {
      if (!key.startsWith(prefix)) continue;
      const value = this.#seen.get(key);
      if (value === undefined) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged.keys()].sort().map((key): [string, T] => [key, copyOf(merged.get(key)) as T]);
  }

  /**
   * The text to keep in a conversation record's `group` for `state`: a stand-in, encoded once when
   * the batch is committed (see deferGroupState), so a state moved on by many items is encoded once.
   */
  groupText(state: GroupState): string {
    const known = this.#texts.get(state);
    if (known !== undefined) return known;
    const text = deferGroupState(state);
    this.#deferred.add(text);
    this.#texts.set(state, text);
    return text;
  }

  /** Keeps what reading `mls` with the state whose text is `group` gave, for the reader that comes to it. */
  keepReadAhead(group: string, mls: string, result: ReadAhead): void {
    const byMessage = this.#readAhead.get(group) ?? new Map<string, ReadAhead>();
    byMessage.set(mls, result);
    this.#readAhead.set(group, byMessage);
  }

  /** What reading `mls` with the state whose text is `group` gave, if it was read ahead. */
  readAhead(group: string, mls: string): ReadAhead | undefined {
    return this.#readAhead.get(group)?.get(mls);
  }

  /**
   * Puts `items` off until the commit, where `flush` gets all that were gathered under `name` at
   * once, with this batch as its store: work each item would redo in full (rewriting a search
   * bucket of a thousand entries) is done once per frame.
   */
  gather<T>(name: string, items: readonly T[], flush: (store: Store, items: T[]) => Promise<void>): void {
    const gathered = this.#gathered.get(name);
    if (gathered) gathered.items.push(...items);
    else this.#gathered.set(name, { items: [...items], flush: flush as (store: Store, items: unknown[]) => Promise<void> });
  }

  /** Hands every write to the base store at once, each record's state encoded; the batch is empty afterwards. */
  async commit(): Promise<void> {
    await (await this.handOver()).written;
  }

  /**
   * Does what was put off and fixes the writes, each record's state encoded, then writes them to the
   * base store at once, once `after` (the batch before's writes) is written. Resolves as soon as the
   * writes are fixed: a batch made with this one as `before` may be applied meanwhile, reading them
   * from here until the store has them. `written` fails, writing nothing, if `after` fails.
   */
  async handOver(after?: Promise<void>): Promise<{ written: Promise<void> }> {
    let entries: Array<[string, unknown]>;
    try {
      for (const { items, flush } of this.#gathered.values()) await flush(this, items);
      this.#gathered.clear();
      entries = [...this.#written].map((key): [string, unknown] => [key, withEncodedGroup(this.#seen.get(key))]);
      this.#written.clear();
    } finally {
      this.discard();
    }
    this.#handed = new Map(entries);
    const written = (async () => {
      try {
        await after;
        if (entries.length > 0) await this.#base.putMany(entries);
      } finally {
        // Written (or never to be): later batches read the store from here on, and the ones before are done.
        this.#handed = undefined;
        this.#before = undefined;
      }
    })();
    // Its caller may fail before waiting for it; whoever waits sees the failure.
    written.catch(() => undefined);
    return { written };
  }

  /** Forgets the states held for records never committed, and what was read ahead or put off. */
  discard(): void {
    dropDeferred(this.#deferred);
    this.#deferred.clear();
    this.#texts.clear();
    this.#readAhead.clear();
    this.#gathered.clear();
  }
}

/**
 * A deep copy of a stored value. Store values are JSON data (every adapter keeps them as JSON), so
 * plain objects and arrays are copied here: structuredClone took ~3x as long, and a conversation
 * record (its 512 hub positions) is read and written a few times for each message of a frame.
 */
function copyOf(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    // A list of plain values (a record's 512 hub positions) is copied whole: half the time.
    let plain = 0;
    while (plain < value.length && (typeof value[plain] !== "object" || value[plain] === null)) plain++;
    if (plain === value.length) return value.slice();
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyOf(value[i]);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyOf((value as Record<string, unknown>)[key]);
  return out;
}

function withEncodedGroup(value: unknown): unknown {
  if (typeof value !== "object" || value === null || !("group" in value) || typeof value.group !== "string" || !isDeferred(value.group)) return value;
  return { ...value, group: encodeDeferred(value.group) };
}

/** `encodeGroupState`, or a stand-in when `store` is a batch (see StoreBatch.groupText). */
export function groupTextIn(store: Store, state: GroupState): string {
  return store instanceof StoreBatch ? store.groupText(state) : encodeGroupState(state);
}

/** `store.get(key)`, or a batch's own value (StoreBatch.peek) where a copy is not needed: only to read from at once. */
export function peekIn<T>(store: Store, key: string): Promise<Readonly<T> | undefined> {
  return store instanceof StoreBatch ? store.peek<T>(key) : store.get<T>(key);
}

/** What reading `mls` with the state whose text is `group` gave, when `store` is a batch that read it ahead. */
export function readAheadIn(store: Store, group: string, mls: string): Promise<{ processed: Processed; content?: Content }> | undefined {
  const ahead = store instanceof StoreBatch ? store.readAhead(group, mls) : undefined;
  if (ahead === undefined) return undefined;
  return "processed" in ahead ? Promise.resolve(ahead) : Promise.reject(ahead.error);
}
