import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { type Address, asAddress } from "./address.js";
import { fromB64u, toB64u } from "./base64url.js";
import { EmsgError } from "./errors.js";

/** Safety numbers and the verification QR code (PROTOCOL §4), after Signal's numeric fingerprints. */

export const SAFETY_ITERATIONS = 5200;
const QR_PREFIX = "emsg-verify:";
const QR_VERSION = "1";

export interface Party {
  address: Address;
  accountKey: Uint8Array;
}

/** One party's 30 digits: h0 = 00 01 || key || address; h = SHA-512(h || key), 5200 times. */
export function fingerprintDigits(party: Party): string {
  let h = concatBytes(new Uint8Array([0, 1]), party.accountKey, new TextEncoder().encode(party.address));
  for (let i = 0; i < SAFETY_ITERATIONS; i++) h = sha512(concatBytes(h, party.accountKey));
  let digits = "";
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0;
    // 5 bytes = 40 bits, exact in a double.
    for (let i = 0; i < 5; i++) n = n * 256 + h[chunk * 5 + i]!;
    digits += String(n % 100000).padStart(5, "0");
  }
  return digits;
}

/** The 60-digit number both people see: the two parties' digits, the smaller first. */
export function safetyNumber(a: Party, b: Party): string {
  if (a.accountKey.length !== 32 || b.accountKey.length !== 32) {
    throw new EmsgError("bad_request", "An account key is 32 bytes.");
  }
  const [x, y] = [fingerprintDigits(a), fingerprintDigits(b)].sort();
  return x! + y!;
}

/** 12 groups of 5 digits, the way the number is shown and read aloud. */
export function safetyNumberGroups(n: string): string[] {
  if (!/^\d{60}$/.test(n)) throw new EmsgError("bad_request", "A safety number is 60 digits.");
  return n.match(/\d{5}/g)!;
}

/** What the QR code shows: `emsg-verify:1:ADDRESS:b64u(accountKey)`. */
export function verifyQrPayload(address: Address, accountKey: Uint8Array): string {
  if (accountKey.length !== 32) throw new EmsgError("bad_request", "An account key is 32 bytes.");
  return `${QR_PREFIX}${QR_VERSION}:${address}:${toB64u(accountKey)}`;
}

/** Reads a scanned verification code; anything else is `bad_request`, another version `unsupported_version`. */
export function parseVerifyQr(text: string): Party {
  if (typeof text !== "string") throw new EmsgError("bad_request", "A verification code is text.");
  const trimmed = text.trim();
  if (!trimmed.startsWith(QR_PREFIX)) throw new EmsgError("bad_request", "This is not an EMSG verification code.");
  const parts = trimmed.slice(QR_PREFIX.length).split(":");
  if (parts[0] !== QR_VERSION) {
    throw new EmsgError("unsupported_version", `This verification code is version ${parts[0]}; this app reads version 1.`);
  }
  if (parts.length !== 3) throw new EmsgError("bad_request", "A verification code is emsg-verify:1:ADDRESS:KEY.");
  const address = asAddress(parts[1]);
  let accountKey: Uint8Array;
  try {
    accountKey = fromB64u(parts[2]!);
  } catch {
    throw new EmsgError("bad_request", "The key in the verification code is not base64url.");
  }
  if (accountKey.length !== 32) throw new EmsgError("bad_request", "The key in the verification code is not 32 bytes.");
  return { address, accountKey };
}
