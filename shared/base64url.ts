import { EmsgError } from "./errors.js";

const B64U = /^[A-Za-z0-9_-]*$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;
const CODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** Bytes a String.fromCharCode call encodes (8,192 characters): far below engines' argument limits, and whole 3-byte groups. */
const CHUNK_BYTES = 6144;

/**
 * Unpadded base64url (RFC 4648 §5): the only binary encoding EMSG puts in JSON. Encoded from a
 * table, not with btoa and regular expressions: it makes every request nonce and many ids.
 */
export function toB64u(bytes: Uint8Array): string {
  if (bytes.length <= CHUNK_BYTES) return encodeRange(bytes, 0, bytes.length);
  let out = "";
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) out += encodeRange(bytes, start, Math.min(start + CHUNK_BYTES, bytes.length));
  return out;
}

/** `bytes[start, end)`; only the last range of a text ends in a partial group, as CHUNK_BYTES is a multiple of 3. */
function encodeRange(bytes: Uint8Array, start: number, end: number): string {
  const tail = (end - start) % 3;
  const whole = end - tail;
  const codes = new Array<number>(Math.ceil(((end - start) * 4) / 3));
  let at = 0;
  let i = start;
  for (; i < whole; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes[at++] = CODE[v >> 18]!;
    codes[at++] = CODE[(v >> 12) & 63]!;
    codes[at++] = CODE[(v >> 6) & 63]!;
    codes[at++] = CODE[v & 63]!;
  }
  if (tail === 1) {
    const v = bytes[i]!;
    codes[at++] = CODE[v >> 2]!;
    codes[at++] = CODE[(v & 3) << 4]!;
  } else if (tail === 2) {
    const v = (bytes[i]! << 8) | bytes[i + 1]!;
    codes[at++] = CODE[v >> 10]!;
    codes[at++] = CODE[(v >> 4) & 63]!;
    codes[at++] = CODE[(v & 15) << 2]!;
  }
  return String.fromCharCode.apply(null, codes);
}

/**
 * Whether `text` is canonical unpadded base64url: only its alphabet, no impossible length, and no
 * stray low bits in the last character, so each byte string has exactly one text form. Checked
 * without decoding: it runs on every MLS message a server validates.
 */
export function isCanonicalB64u(text: string): boolean {
  const tail = text.length % 4;
  if (tail === 1 || !B64U.test(text)) return false;
  if (tail === 0) return true;
  const last = VALUE[text.charCodeAt(text.length - 1)]!;
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}

/** The number of bytes canonical unpadded base64url of `chars` characters holds. */
export function b64uByteLength(chars: number): number {
  return Math.floor((chars * 3) / 4);
}

export function fromB64u(text: string): Uint8Array {
  if (!isCanonicalB64u(text)) throw new EmsgError("bad_request", B64U.test(text) && text.length % 4 !== 1 ? "Non-canonical base64url." : "Not unpadded base64url.");
  const out = new Uint8Array(b64uByteLength(text.length));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    acc = (acc << 6) | VALUE[text.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Standard padded base64, used where RFC 8941 byte sequences need it (Content-Digest, Signature). */
export function toB64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin);
}

export function fromB64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new EmsgError("bad_request", "Not base64.");
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
