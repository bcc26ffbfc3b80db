// Checks that frame shortcuts (session-frame.ts, server-frame.ts, fed-deliver.ts) make of values
// as JSON.parse gives them, before trusting a frame without its valibot schema's work. Each says
// only yes or no: anything it refuses goes through the schema, whose error stands.
import { isAddress } from "../address.js";
import { isCanonicalB64u } from "../base64url.js";
import { isB64uOfLength } from "../ids.js";
import { parseConversationRef, WELCOME_CHARS } from "./conversation.js";

/** A plain object, as JSON.parse makes, with no key outside `allowed` (which keys it has is the caller's to check). */
export function hasOnlyKeys(x: unknown, allowed: Set<string>): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Object.getPrototypeOf(x) !== Object.prototype) return false;
  for (const key in x) if (!Object.hasOwn(x, key) || !allowed.has(key)) return false;
  return true;
}

/** A position or count: a safe integer ≥ 0. */
export const isSeq = (x: unknown): boolean => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/** A 16-byte id in base64url. */
export const isId16 = (x: unknown): boolean => typeof x === "string" && isB64uOfLength(x, 16);

export function isConversationRef(x: unknown): boolean {
  try {
    parseConversationRef(x);
    return true;
  } catch {
    return false;
  }
}

/** The fields every conversation entry has (ConvPayloadSchema), each valid, but its type. */
export function isPlainEntryFields(item: Record<string, unknown>): boolean {
  return (
    isConversationRef(item.conversation) &&
    isId16(item.id) &&
    isSeq(item.hubSeq) &&
    isAddress(item.from) &&
    isId16(item.deviceId) &&
    isSeq(item.epoch) &&
    typeof item.mls === "string" &&
    item.mls.length <= WELCOME_CHARS &&
    isCanonicalB64u(item.mls) &&
    isSeq(item.at)
  );
}
