import { messageIdsOf } from "../../shared/client/messages.js";

/**
 * What the extension's store keeps under a key: the value's JSON text, and beside it, in the clear,
 * a message's ids for the index it is found by (ui/platform/message-index.ts).
 */
export type EntryValue = string | { text: string; ids: string[] };

/** What an entry keeps of `value`, whose JSON text is `text`. */
export function entryValue(key: string, text: string, value: unknown): EntryValue {
  const ids = messageIdsOf(key, value);
  return ids ? { text, ids } : text;
}

/** The value an entry keeps; undefined for none. */
export function parse(stored: EntryValue | undefined): unknown {
  return stored === undefined ? undefined : JSON.parse(typeof stored === "string" ? stored : stored.text);
}
