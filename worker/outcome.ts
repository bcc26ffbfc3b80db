import { EmsgError, isErrorCode, type ErrorBody } from "../shared/errors.js";

/**
 * Durable Object RPC carries plain values; an EmsgError thrown inside an object would arrive
 * as a bare Error. So object methods return an Outcome and the Worker turns it back into the
 * typed error.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorBody };

export async function attempt<T>(work: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    if (e instanceof EmsgError) return { ok: false, error: e.toJSON() };
    throw e;
  }
}

/** attempt for synchronous work, whose outcome is known before anything else runs. */
export function attemptNow<T>(work: () => T): Outcome<T> {
  try {
    return { ok: true, value: work() };
  } catch (e) {
    if (e instanceof EmsgError) return { ok: false, error: e.toJSON() };
    throw e;
  }
}

export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new EmsgError(isErrorCode(outcome.error.error) ? outcome.error.error : "internal", outcome.error.message);
}
