import { EmsgError } from "./errors.js";

/** Unpadded base64url (RFC 4648 §5): the only binary encoding EMSG puts in JSON. */
export function toB64u(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const B64U = /^[A-Za-z0-9_-]*$/;

export function fromB64u(text: string): Uint8Array {
  if (!B64U.test(text) || text.length % 4 === 1) throw new EmsgError("bad_request", "Not unpadded base64url.");
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Reject non-canonical encodings (stray low bits) so each byte string has exactly one text form.
  if (toB64u(out) !== text) throw new EmsgError("bad_request", "Non-canonical base64url.");
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
