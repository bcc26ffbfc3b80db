import type { Address } from "../../shared/address.js";
import { ERROR_SENTENCE, EmsgError, type ErrorCode, isErrorCode } from "../../shared/errors.js";
import type { Translate } from "../i18n/translate.js";
import type { MessageKey } from "../i18n/en.js";
import { UPLOAD_CANCELLED, UPLOAD_INTERRUPTED } from "../../shared/client/messages.js";

/** The sentence a person sees for a failure: the server's or core's message, else the code's sentence. */
export function errorSentence(error: unknown): string {
  if (error instanceof EmsgError) return error.message || ERROR_SENTENCE[error.code];
  if (error && typeof error === "object" && "code" in error && isErrorCode(error.code)) return ERROR_SENTENCE[error.code];
  if (error instanceof TypeError) return ERROR_SENTENCE.peer_unreachable;
  if (error instanceof Error && error.message) return error.message;
  return ERROR_SENTENCE.internal;
}

/** The typed code of a failure: an EmsgError's, or an answer's `error`/`code` (the extension's replies carry `error`). */
export function errorCode(error: unknown): ErrorCode | null {
  if (error instanceof EmsgError) return error.code;
  if (error && typeof error === "object") {
    const { code, error: named } = error as Record<string, unknown>;
    if (isErrorCode(code)) return code;
    if (isErrorCode(named)) return named;
  }
  return error instanceof TypeError ? "peer_unreachable" : null;
}

/**
 * A failure in the person's language: the server's and core's messages are English, so a typed
 * failure is worded by its code; anything else as errorSentence says.
 */
export function errorText(error: unknown, t: Translate): string {
  const code = errorCode(error);
  return code ? t(`error.${code}`) : errorSentence(error);
}

/**
 * Why a friend request to `address` failed or came back, naming them where the code is about them
 * (an account that does not exist, one that refuses strangers, a server out of reach).
 */
export function friendRequestProblem(error: unknown, address: Address | string, t: Translate): string {
  // A bounce names its reason by code alone.
  const code = typeof error === "string" ? (isErrorCode(error) ? error : null) : errorCode(error);
  switch (code) {
    case "not_found":
    case "gone":
      return t("friends.noAccount", { address });
    case "stranger_refused":
      return t("friends.refused", { address });
    case "peer_unreachable":
      return t("friends.unreachable", { address });
    case null:
      return typeof error === "string" ? error : errorSentence(error);
    default:
      return t(`error.${code}`);
  }
}

/** Codes whose general sentence misleads for a message that failed for good ("it will be retried"). */
const FAILED_SENTENCE: Partial<Record<ErrorCode, MessageKey>> = {
  peer_unreachable: "conv.failed.peer_unreachable",
  unavailable: "conv.failed.unavailable",
};

/**
 * Why a message of ours failed to send, in the person's language: its `error` is a code, or one of
 * the core's own reasons for an upload; anything else (kept by an older version) as it is.
 */
export function sendFailureText(error: string | undefined, t: Translate): string {
  if (error === UPLOAD_CANCELLED) return t("conv.failed.uploadCancelled");
  if (error === UPLOAD_INTERRUPTED) return t("conv.failed.uploadInterrupted");
  if (error === undefined || !isErrorCode(error)) return error ?? t("error.internal");
  return t(FAILED_SENTENCE[error] ?? `error.${error}`);
}
