import type { Address } from "../shared/address.js";

/**
 * How long an account's mailbox copy of an entry waits at most for its device's `got` (PROTOCOL
 * §10): the device answers within a few milliseconds when it is there; one that does not gets its
 * copy this much later than without the wait.
 */
export const HOLD_MS = 1000;

const NONE: ReadonlySet<Address> = new Set();

/** Entries tracked at most: past it all is forgotten and every copy goes (a fan-out failing for long). */
const MAX_TRACKED = 4096;

interface Pushed {
  /** When it was pushed: its copies wait until HOLD_MS after, at most. */
  at: number;
  /** The sessions it was pushed to that may spare their account its copy and have not said `got`, with their account. */
  waiting: Map<WebSocket, Address>;
  /** `ADDRESS/DEVICEID` of the devices whose session said it stored the entry. */
  stored: Set<string>;
}

/**
 * What the devices on sessions said they stored of the entries pushed to them (`got`, PROTOCOL
 * §10), while this hub instance lives. Memory only: what a restart forgets goes to the mailboxes
 * as before, so the word of a device can spare a copy but never lose one. A session's `got`
 * counts only for entries pushed to that very session, and only for its own device.
 */
export class StoredCopies {
  readonly #entries = new Map<number, Pushed>();
  readonly #wakers = new Set<() => void>();
  /** One timer for every wait, set for the earliest hold's end (see #wakeAt). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;

  /** An entry went to `sessions` (each with its account), whose `got` may spare that account's copy. */
  pushed(seq: number, at: number, sessions: Map<WebSocket, Address>): void {
    if (sessions.size === 0) return;
    if (this.#entries.size >= MAX_TRACKED) this.#entries.clear();
    this.#entries.set(seq, { at, waiting: sessions, stored: new Set() });
  }

  /** A session's device says it stored these entries: counted for those pushed to that session only. */
  got(ws: WebSocket, device: string, seqs: number[]): void {
    let changed = false;
    for (const seq of seqs) {
      const entry = this.#entries.get(seq);
      if (entry?.waiting.delete(ws)) {
        entry.stored.add(device);
        changed = true;
      }
    }
    if (changed) this.#wake();
  }

  /** A session closed: nothing waits for its word any more. */
  closed(ws: WebSocket): void {
    let changed = false;
    for (const entry of this.#entries.values()) changed = entry.waiting.delete(ws) || changed;
    if (changed) this.#wake();
  }

  /** Whether any entry is tracked: while none is, no copy waits or is spared, and the fan-out asks nothing per entry. */
  get tracking(): boolean {
    return this.#entries.size > 0;
  }

  /** Whether `device` (`ADDRESS/DEVICEID`) said over a session it got that entry pushed to that it stored it. */
  isStored(seq: number, device: string): boolean {
    return this.#entries.get(seq)?.stored.has(device) === true;
  }

  /** The accounts whose session may still say `got` for that entry, within its hold. */
  waiting(seq: number, now: number): ReadonlySet<Address> {
    const entry = this.#entries.get(seq);
    // Asked for every entry a fan-out batch hands on, most of them pushed to no acking session.
    return entry && entry.at + HOLD_MS > now ? new Set(entry.waiting.values()) : NONE;
  }

  /**
   * Resolves once no entry of `seqs` waits for a `got` from a session of an account `of` picks,
   * or that entry's hold has ended.
   */
  async settle(seqs: number[], of: (address: Address) => boolean): Promise<void> {
    for (;;) {
      let until = 0;
      for (const seq of seqs) {
        const entry = this.#entries.get(seq);
        if (!entry || entry.at + HOLD_MS <= until) continue;
        for (const address of entry.waiting.values()) {
          if (of(address)) {
            until = entry.at + HOLD_MS;
            break;
          }
        }
      }
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        this.#wakers.add(resolve);
        this.#wakeAt(until);
      });
    }
  }

  /** Entries both fan-out lanes handed on: nothing asks about them again. */
  forget(through: number): void {
    for (const seq of this.#entries.keys()) if (seq <= through) this.#entries.delete(seq);
  }

  /**
   * Wakes every wait by `at`. Holds end in push order, so a timer already set for an earlier end
   * serves: every wait wakes then, looks again, and sets it anew; a timer a leg cost about as
   * much of the hub's CPU as the rest of the wait.
   */
  #wakeAt(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wake();
    }, at - Date.now());
  }

  /** Every wait looks again (a `got`, a close, a hold's end); those still waiting wait anew. */
  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }
}
