import * as v from "valibot";
import { isAddress } from "../address.js";
import { FedItemSchema, type FedItem } from "./federation.js";
import { hasOnlyKeys, isConversationRef, isId16, isPlainEntryFields } from "./plain-checks.js";

/**
 * The check of a federation item (PROTOCOL §7): FedItemSchema, with a shortcut for the item nearly
 * every batch is made of, a plain `conv_deliver` of an application message. valibot's own work
 * around the field checks is about half of a batch's check; the shortcut makes the same field
 * checks and takes an item only when the schema would take it unchanged (no key it would drop, no
 * optional part it would check further). Anything else, and every refusal, is the schema's.
 */
export function parseFedItem(raw: unknown): v.SafeParseResult<typeof FedItemSchema> {
  return isPlainConvDeliver(raw) ? { typed: true, success: true, output: raw as FedItem, issues: undefined } : v.safeParse(FedItemSchema, raw);
}

const DELIVER_KEYS = new Set(["id", "kind", "conversation", "to", "item", "answered"]);
const PAYLOAD_KEYS = new Set(["conversation", "id", "hubSeq", "from", "deviceId", "epoch", "type", "mls", "at"]);
const MAX_TO = 1000;

/** `conv_deliver` of an application message, without authorProof or authorTicket: as FedItemSchema would output it. */
function isPlainConvDeliver(raw: unknown): boolean {
  if (!hasOnlyKeys(raw, DELIVER_KEYS) || (Object.hasOwn(raw, "answered") && raw.answered !== true)) return false;
  if (raw.kind !== "conv_deliver" || !isId16(raw.id) || !isConversationRef(raw.conversation)) return false;
  const to = raw.to;
  if (!Array.isArray(to) || to.length < 1 || to.length > MAX_TO) return false;
  for (let i = 0; i < to.length; i++) if (!isAddress(to[i])) return false;
  const item = raw.item;
  // Each of the payload's keys is checked by isPlainEntryFields, so it has all of them.
  if (!hasOnlyKeys(item, PAYLOAD_KEYS) || item.type !== "application") return false;
  return isPlainEntryFields(item);
}
