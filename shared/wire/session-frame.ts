import * as v from "valibot";
import { isCanonicalB64u } from "../base64url.js";
import { isB64uOfLength } from "../ids.js";
import { MLS_MESSAGE_CHARS } from "./conversation.js";
import { MAX_SESSION_GOT, MAX_SESSION_SUBMITS, SessionClientFrameSchema, type SessionClientFrame } from "./frames.js";
import { hasOnlyKeys, isSeq } from "./plain-checks.js";

/**
 * The check of a session's client frame (PROTOCOL §10): SessionClientFrameSchema, with a shortcut
 * for the frames a busy session is made of: application messages or proposals (`submit`, or a
 * `submits` burst), with or without the `got` they carry, and `got`. valibot's work around the field checks was most of a frame's check on the
 * hub; the shortcut makes the same field checks and takes a frame only when the schema would take
 * it unchanged (no key it would drop, no optional part). Anything else, and every refusal, is the
 * schema's.
 */
export function parseSessionFrame(raw: unknown): v.SafeParseResult<typeof SessionClientFrameSchema> {
  return isPlainSubmits(raw) || isPlainGot(raw)
    ? { typed: true, success: true, output: raw as SessionClientFrame, issues: undefined }
    : v.safeParse(SessionClientFrameSchema, raw);
}

const SUBMITS_KEYS = new Set(["t", "submits", "submit", "got"]);
const SUBMIT_KEYS = new Set(["id", "epoch", "kind", "mls"]);
const GOT_KEYS = new Set(["t", "seqs"]);

/**
 * `submit` or `submits` whose every submission is an application message or proposal with no
 * welcome or roster, and whose `got`, if it has one, is a valid list of positions.
 */
function isPlainSubmits(raw: unknown): boolean {
  if (!hasOnlyKeys(raw, SUBMITS_KEYS)) return false;
  let submits: unknown;
  if (raw.t === "submits" && !("submit" in raw)) submits = raw.submits;
  else if (raw.t === "submit" && !("submits" in raw)) submits = [raw.submit];
  else return false;
  if (!Array.isArray(submits) || submits.length < 1 || submits.length > MAX_SESSION_SUBMITS) return false;
  if ("got" in raw && !isGotSeqs(raw.got)) return false;
  for (let i = 0; i < submits.length; i++) {
    const s: unknown = submits[i];
    // Each of the submission's keys is checked here, so it has all of them.
    if (!hasOnlyKeys(s, SUBMIT_KEYS) || (s.kind !== "application" && s.kind !== "proposal")) return false;
    if (typeof s.id !== "string" || !isB64uOfLength(s.id, 16) || !isSeq(s.epoch)) return false;
    if (typeof s.mls !== "string" || s.mls.length > MLS_MESSAGE_CHARS || !isCanonicalB64u(s.mls)) return false;
  }
  return true;
}

function isPlainGot(raw: unknown): boolean {
  return hasOnlyKeys(raw, GOT_KEYS) && raw.t === "got" && isGotSeqs(raw.seqs);
}

function isGotSeqs(seqs: unknown): boolean {
  if (!Array.isArray(seqs) || seqs.length < 1 || seqs.length > MAX_SESSION_GOT) return false;
  for (let i = 0; i < seqs.length; i++) if (!isSeq(seqs[i])) return false;
  return true;
}
