/**
 * The hub positions a mailbox stored, per conversation, the latest WINDOW of them (PROTOCOL §6):
 * an entry at one of them is a repeat, by a hub or Outbox that re-ran a delivery after a crash,
 * and is not stored again. Only the highest would turn an entry that came late into one dropped
 * in silence; one older than every position kept is taken for a repeat.
 *
 * A conversation's window is one row: its highest position and a ring of WINDOW bits, position
 * p's bit at p mod WINDOW, so a batch writes one row of 512 bytes, not a row per entry (the
 * conv_positions rows written before are read into it once, then dropped).
 */
export const CONV_WINDOWS_STEP = "CREATE TABLE conv_windows (conversation TEXT PRIMARY KEY, top INTEGER NOT NULL, seen BLOB NOT NULL) WITHOUT ROWID";
export const WINDOW = 4096;
/** Conversations whose window this object keeps in memory at most. */
const MAX_KEPT = 1000;

interface Window {
  top: number;
  seen: Uint8Array;
  /** Read from conv_positions rows, which its first write drops. */
  fromRows: boolean;
}

export class ConvWindows {
  /** Windows as written (this object alone writes them), while this object lives. */
  private readonly kept = new Map<string, Window>();

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Which of a batch's positions, given in order with their conversations, are new: each not
   * stored before nor earlier in the batch, and above its conversation's floor as the batch
   * found it (its highest stored position less WINDOW). Records them; call inside the
   * transaction that stores their entries, and forget() if it fails.
   */
  take(batch: { conversation: string; position: number }[]): boolean[] {
    const windows = new Map<string, { window: Window; taken: Set<number> }>();
    // Judged against the windows as the batch found them, then recorded.
    const fresh = batch.map(({ conversation, position }) => {
      let judged = windows.get(conversation);
      if (!judged) windows.set(conversation, (judged = { window: this.windowOf(conversation), taken: new Set() }));
      const { window, taken } = judged;
      if (position <= window.top - WINDOW || taken.has(position) || has(window, position)) return false;
      taken.add(position);
      return true;
    });
    try {
      batch.forEach(({ conversation, position }, i) => {
        if (fresh[i]) mark(windows.get(conversation)!.window, position);
      });
      for (const [conversation, { window, taken }] of windows) {
        if (taken.size > 0) this.write(conversation, window);
      }
    } catch (error) {
      this.forget();
      throw error;
    }
    return fresh;
  }

  private write(conversation: string, window: Window): void {
    if (window.fromRows) {
      this.sql.exec("DELETE FROM conv_positions WHERE conversation = ?", conversation);
      window.fromRows = false;
    }
    this.sql.exec(
      "INSERT INTO conv_windows (conversation, top, seen) VALUES (?, ?, ?) ON CONFLICT (conversation) DO UPDATE SET top = excluded.top, seen = excluded.seen",
      conversation,
      window.top,
      window.seen.buffer,
    );
  }

  /** Drops the windows held in memory: their rows may not say the same (a failed transaction, a wipe). */
  forget(): void {
    this.kept.clear();
  }

  private windowOf(conversation: string): Window {
    const known = this.kept.get(conversation);
    if (known) return known;
    const row = this.sql.exec<{ top: number; seen: ArrayBuffer }>("SELECT top, seen FROM conv_windows WHERE conversation = ?", conversation).toArray()[0];
    const window = row ? { top: row.top, seen: new Uint8Array(row.seen.slice(0)), fromRows: false } : this.fromRows(conversation);
    if (this.kept.size >= MAX_KEPT) this.kept.clear();
    this.kept.set(conversation, window);
    return window;
  }

  /** A window from the positions stored one a row before windows. */
  private fromRows(conversation: string): Window {
    const positions = this.sql.exec<{ position: number }>("SELECT position FROM conv_positions WHERE conversation = ?", conversation).toArray().map((r) => r.position);
    const window = { top: -1, seen: new Uint8Array(WINDOW / 8), fromRows: positions.length > 0 };
    for (const position of positions.sort((a, b) => a - b)) mark(window, position);
    return window;
  }
}

/** Whether `position` is stored: within the window and its bit set. */
function has(window: Window, position: number): boolean {
  if (position > window.top || position <= window.top - WINDOW) return false;
  const slot = position % WINDOW;
  return (window.seen[slot >> 3]! & (1 << (slot & 7))) !== 0;
}

/** Records `position`, moving the window up to it if it is the highest (the bits it passes cleared). */
function mark(window: Window, position: number): void {
  if (position > window.top) {
    if (position - window.top >= WINDOW) window.seen.fill(0);
    else for (let p = window.top + 1; p <= position; p++) clear(window, p);
    window.top = position;
  }
  if (position <= window.top - WINDOW) return;
  const slot = position % WINDOW;
  window.seen[slot >> 3] = (window.seen[slot >> 3] ?? 0) | (1 << (slot & 7));
}

function clear(window: Window, position: number): void {
  const slot = position % WINDOW;
  window.seen[slot >> 3] = (window.seen[slot >> 3] ?? 0) & ~(1 << (slot & 7));
}
