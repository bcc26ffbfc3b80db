import * as v from "valibot";
import { type ServerFrame, ServerFrameSchema, type SessionServerFrame, SessionServerFrameSchema } from "./frames.js";
import { hasOnlyKeys, isId16, isPlainEntryFields, isSeq } from "./plain-checks.js";

/**
 * The checks of what a server sends a client: a mailbox frame (ServerFrameSchema, PROTOCOL §6) and
 * a session frame (SessionServerFrameSchema, §10), each with a shortcut for the frames a busy
 * client gets: `items` of conversation entries, and the hub's `acks`, `ack` and `item`. valibot's
 * work around the field checks, and the copy of every item it makes, were most of a client's check
 * of a frame; the shortcut makes the same field checks and takes a frame only when the schema
 * would take it unchanged (no key it would drop, no optional part). Anything else, and every
 * refusal, is the schema's.
 */
export function parseMailboxFrame(raw: unknown): v.SafeParseResult<typeof ServerFrameSchema> {
  return isPlainItems(raw) ? { typed: true, success: true, output: raw as ServerFrame, issues: undefined } : v.safeParse(ServerFrameSchema, raw);
}

export function parseSessionServerFrame(raw: unknown): v.SafeParseResult<typeof SessionServerFrameSchema> {
  return isPlainSessionFrame(raw)
    ? { typed: true, success: true, output: raw as SessionServerFrame, issues: undefined }
    : v.safeParse(SessionServerFrameSchema, raw);
}

const ITEMS_KEYS = new Set(["t", "items", "left"]);
const PAYLOAD_FIELDS = ["conversation", "id", "hubSeq", "from", "deviceId", "epoch", "type", "mls", "at"];
const PAYLOAD_KEYS = new Set(PAYLOAD_FIELDS);
const MAIL_CONV_KEYS = new Set([...PAYLOAD_FIELDS, "seq", "kind"]);
const PAYLOAD_TYPES = new Set(["application", "commit", "proposal", "welcome", "withdrawn", "rejoin"]);
const ACKS_KEYS = new Set(["t", "acks"]);
const ACK_KEYS = new Set(["id", "seq"]);
const ONE_ACK_KEYS = new Set(["t", "id", "seq"]);
const ITEM_KEYS = new Set(["t", "item"]);

/** `items` whose every item is a conversation entry without `members` or `withdraws`, and whose `left`, if it has one, is a count. */
function isPlainItems(raw: unknown): boolean {
  if (!hasOnlyKeys(raw, ITEMS_KEYS) || raw.t !== "items" || ("left" in raw && !isSeq(raw.left))) return false;
  const items = raw.items;
  if (!Array.isArray(items)) return false;
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    // Each of the item's keys is checked here, so it has all of them.
    if (!hasOnlyKeys(item, MAIL_CONV_KEYS) || item.kind !== "conv" || !isSeq(item.seq) || !isPlainPayload(item)) return false;
  }
  return true;
}

/** The fields of a conversation entry (ConvPayloadSchema) that every entry has, each valid. */
function isPlainPayload(item: Record<string, unknown>): boolean {
  return typeof item.type === "string" && PAYLOAD_TYPES.has(item.type) && isPlainEntryFields(item);
}

/** `acks`, `ack`, or `item` of an entry without `members` or `withdraws`. */
function isPlainSessionFrame(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null) return false;
  const t = (raw as { t?: unknown }).t;
  if (t === "acks") {
    if (!hasOnlyKeys(raw, ACKS_KEYS) || !Array.isArray(raw.acks)) return false;
    for (let i = 0; i < raw.acks.length; i++) {
      const ack: unknown = raw.acks[i];
      if (!hasOnlyKeys(ack, ACK_KEYS) || !isId16(ack.id) || !isSeq(ack.seq)) return false;
    }
    return true;
  }
  if (t === "ack") return hasOnlyKeys(raw, ONE_ACK_KEYS) && isId16(raw.id) && isSeq(raw.seq);
  if (t === "item") return hasOnlyKeys(raw, ITEM_KEYS) && hasOnlyKeys(raw.item, PAYLOAD_KEYS) && isPlainPayload(raw.item);
  return false;
}
