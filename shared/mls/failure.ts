import { CodecError, CryptoError, CryptoVerificationError, MlsError } from "ts-mls/mlsError.js";
import { EmsgError } from "../errors.js";

/**
 * Turns whatever ts-mls throws while handling outside input into the EMSG vocabulary, so a peer's
 * garbage is a 4xx for it and never a crash for us: failed signatures, AEAD tags and credentials are
 * `unauthorized` (nobody can tell a forgery from a tampered message); everything else is `bad_request`.
 */
export function mlsFailure(e: unknown, doing: string): EmsgError {
  if (e instanceof EmsgError) return e;
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
