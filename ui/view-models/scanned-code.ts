import type { Address } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { parseVerifyQr } from "../../shared/safety-number.js";

/** What a scanned verification code says about the friend whose safety number is on screen. */
export type ScanVerdict =
  /** Their code carries the key we pinned: nobody is in the middle. */
  | { kind: "match" }
  /** Their address, another key: whoever showed it is not who we talk to (or their key changed). */
  | { kind: "mismatch" }
  /** A valid code, but of someone else. */
  | { kind: "other-person"; address: Address }
  /** Not a verification code at all. */
  | { kind: "unreadable" };

/** Compares a scanned `emsg-verify:` code with the friend's address and the key pinned for them. */
export function judgeScannedCode(text: string, friend: Address, pinnedKey: string): ScanVerdict {
  let party;
  try {
    party = parseVerifyQr(text);
  } catch {
    return { kind: "unreadable" };
  }
  if (party.address !== friend) return { kind: "other-person", address: party.address };
  return pinnedKey !== "" && toB64u(party.accountKey) === pinnedKey ? { kind: "match" } : { kind: "mismatch" };
}

/**
 * Where a page was opened to add a friend: `?add=ADDRESS` on the app's URL, which is also what the
 * `web+emsg:` protocol handler opens. The value is read like anything pasted into the form.
 */
export function addParameter(search: string): string | null {
  const value = new URLSearchParams(search).get("add");
  return value && value.trim() !== "" ? value.trim() : null;
}
