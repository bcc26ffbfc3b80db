import * as v from "valibot";
import { ed25519 } from "@noble/curves/ed25519.js";
import { fromB64u, toB64u } from "./base64url.js";
import { jcsBytes } from "./canonical.js";
import { fixedB64uSchema } from "./ids.js";

/** Every purpose a signed object may have; the context is signed so one kind cannot pass for another. */
export const SIGN_CONTEXTS = [
  "device-cert",
  "friend-request",
  "friend-response",
  "session-ticket",
  "ws-ticket",
  "moved",
  "deleted",
  "account-delete",
  "conv-author",
] as const;

export type SignContext = (typeof SIGN_CONTEXTS)[number];

export interface Signed<T> {
  body: T;
  sig: string;
}

const utf8 = new TextEncoder();

/** The exact bytes signed: `UTF8("EMSG-v1/" + context + "\n") || UTF8(JCS(body))` (PROTOCOL §1). */
export function signingInput(context: SignContext, body: unknown): Uint8Array {
  const prefix = utf8.encode(`EMSG-v1/${context}\n`);
  const json = jcsBytes(body);
  const out = new Uint8Array(prefix.length + json.length);
  out.set(prefix);
  out.set(json, prefix.length);
  return out;
}

export function signObject<T>(privateKey: Uint8Array, context: SignContext, body: T): Signed<T> {
  return { body, sig: toB64u(ed25519.sign(signingInput(context, body), privateKey)) };
}

/**
 * Checks a signed object against a key and context. Strict RFC 8032 verification (no ZIP-215
 * leniency) so a signature has one valid encoding. Never throws: malformed input is just false.
 */
export function verifyObject<T>(publicKey: Uint8Array, context: SignContext, signed: Signed<T>): boolean {
  try {
    if (!signed || typeof signed !== "object" || typeof signed.sig !== "string") return false;
    const sig = fromB64u(signed.sig);
    if (sig.length !== 64 || publicKey.length !== 32) return false;
    return ed25519.verify(sig, signingInput(context, signed.body), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export const SignatureSchema = fixedB64uSchema(64, "A signature");

/**
 * Schema for `{ body, sig }`. Give it a `v.looseObject` body schema: the signature covers every
 * member of the body, including ones this version does not know, so none may be stripped.
 */
export function signedSchema<TBody extends v.GenericSchema>(bodySchema: TBody) {
  return v.object({ body: bodySchema, sig: SignatureSchema });
}
