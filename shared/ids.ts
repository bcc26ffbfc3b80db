import * as v from "valibot";
import { b64uByteLength, isCanonicalB64u, toB64u } from "./base64url.js";

/** True when `text` is the canonical unpadded base64url of exactly `length` bytes. */
export function isB64uOfLength(text: string, length: number): boolean {
  return typeof text === "string" && b64uByteLength(text.length) === length && isCanonicalB64u(text);
}

/** valibot schema for canonical b64u of a fixed number of bytes (keys, signatures, ids). */
export function fixedB64uSchema(length: number, what: string) {
  return v.pipe(
    v.string(`${what} must be text.`),
    v.check((text) => isB64uOfLength(text, length), `${what} must be ${length} bytes as unpadded base64url.`),
  );
}

/** b64u of 16 random bytes: ids of requests, conversations, nonces. */
export function randomId16(): string {
  return toB64u(crypto.getRandomValues(new Uint8Array(16)));
}

export const Id16Schema = fixedB64uSchema(16, "An id");
