import * as v from "valibot";
import { isAddress, asDomain, type Address, type Domain } from "../address.js";
import { isCanonicalB64u } from "../base64url.js";

/** Wire scalars shared by every EMSG body (PROTOCOL §1–§2). */

export const AddressSchema = v.custom<Address>(isAddress, "Expected an address name#host in normal form.");

function isDomain(input: unknown): boolean {
  try {
    asDomain(input);
    return true;
  } catch {
    return false;
  }
}

export const DomainSchema = v.custom<Domain>(isDomain, "Expected a host name in normal form.");

function isB64u(input: string): boolean {
  return isCanonicalB64u(input);
}

/** Canonical unpadded base64url; `maxChars` bounds the text before it is decoded. */
export function b64uSchema(maxChars: number) {
  return v.pipe(v.string(), v.maxLength(maxChars), v.check(isB64u, "Expected canonical unpadded base64url."));
}

/** Milliseconds since the Unix epoch. */
export const MsSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** A position in an ordered log (mailbox or hub), starting at 1. */
export const SeqSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const ErrorCodeSchema = v.picklist([
  "bad_request",
  "unauthorized",
  "device_removed",
  "forbidden",
  "not_found",
  "conflict",
  "stale_epoch",
  "gone",
  "too_large",
  "over_quota",
  "unsupported_version",
  "rate_limited",
  "stranger_refused",
  "peer_unreachable",
  "unavailable",
  "internal",
]);

export const ErrorBodySchema = v.object({ error: ErrorCodeSchema, message: v.string() });
