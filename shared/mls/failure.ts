import { CodecError, CryptoError, CryptoVerificationError, DependencyError, MlsError } from "ts-mls/mlsError.js";
import { EmsgError } from "../errors.js";

/**
 * A failure of this device, not of the input: a module of the suite that did not load (an app
 * updated under an open page, its old files gone) or memory that could not be had. Blamed on the
 * input, a commit was vetoed or skipped as unreadable and this device left behind the group for
 * good; thrown as it is, nothing is taken as read and the same item is read again later.
 */
function localFailure(e: unknown): boolean {
  return e instanceof DependencyError || (e instanceof RangeError && /allocation failed/i.test(e.message));
}

/**
 * Turns whatever ts-mls throws while handling outside input into the EMSG vocabulary, so a peer's
 * garbage is a 4xx for it and never a crash for us: failed signatures, AEAD tags and credentials are
 * `unauthorized` (nobody can tell a forgery from a tampered message); everything else is `bad_request`.
 * A failure of this device's own (localFailure) is returned as it is.
 */
export function mlsFailure(e: unknown, doing: string): Error {
  if (e instanceof EmsgError || (localFailure(e) && e instanceof Error)) return e;
  const detail = e instanceof Error ? e.message : String(e);
  if (e instanceof CryptoVerificationError || e instanceof CryptoError || /credential|signature|decrypt/i.test(detail)) {
    return new EmsgError("unauthorized", `${doing}: it does not verify (${detail}).`);
  }
  if (e instanceof CodecError || e instanceof MlsError) return new EmsgError("bad_request", `${doing}: ${detail}.`);
  // ts-mls reads fields of hostile structures without guarding every one; a TypeError there is still bad input.
  return new EmsgError("bad_request", `${doing}: malformed MLS data (${detail}).`);
}

/** Runs one ts-mls step on outside input with `mlsFailure` as its only way to fail. */
export async function guarded<T>(doing: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    throw mlsFailure(e, doing);
  }
}
