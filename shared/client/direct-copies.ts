import { sha256 } from "@noble/hashes/sha2.js";
import { toB64u } from "../base64url.js";
import type { ConversationRecord } from "./conversation-record.js";

/**
 * Direct copies (PROTOCOL §10, path 3): an application message read from a data channel is the
 * same ciphertext the hub later delivers. Its digest is remembered so the hub's copy is only
 * marked applied, not read again (MLS would refuse a second read of the same message anyway).
 */
const KEPT = 256;

export function copyDigest(mls: string): string {
  return toB64u(sha256(new TextEncoder().encode(mls)).subarray(0, 16));
}

export function readDirectly(record: ConversationRecord, mls: string): boolean {
  return record.direct?.includes(copyDigest(mls)) ?? false;
}

/** The record with `mls` remembered as read directly; only the newest digests are kept. */
export function rememberDirect(record: ConversationRecord, mls: string): ConversationRecord {
  return { ...record, direct: [...(record.direct ?? []), copyDigest(mls)].slice(-KEPT) };
}
