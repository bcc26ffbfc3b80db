import { ERROR_SENTENCE, EmsgError, isErrorCode } from "../../shared/errors.js";

/** The sentence a person sees for a failure: the server's or core's message, else the code's sentence. */
export function errorSentence(error: unknown): string {
  if (error instanceof EmsgError) return error.message || ERROR_SENTENCE[error.code];
  if (error && typeof error === "object" && "code" in error && isErrorCode(error.code)) return ERROR_SENTENCE[error.code];
  if (error instanceof TypeError) return ERROR_SENTENCE.peer_unreachable;
  if (error instanceof Error && error.message) return error.message;
  return ERROR_SENTENCE.internal;
}
