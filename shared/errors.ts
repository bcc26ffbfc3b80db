/**
 * The one error vocabulary of EMSG, shared by servers and clients.
 * On the wire an error is `{ "error": code, "message": text }` with the HTTP status below.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  device_removed: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  stale_epoch: 409,
  gone: 410,
  too_large: 413,
  over_quota: 413,
  unsupported_version: 422,
  rate_limited: 429,
  stranger_refused: 403,
  peer_unreachable: 502,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Plain sentences a client shows to a person. */
export const ERROR_SENTENCE: Record<ErrorCode, string> = {
  bad_request: "The request was not understood.",
  unauthorized: "This device could not prove who it is.",
  device_removed: "This device was removed from its account.",
  forbidden: "That is not allowed.",
  not_found: "No such thing here.",
  conflict: "That already exists or clashes with something else.",
  stale_epoch: "The conversation moved on; catching up and trying again.",
  gone: "That account no longer exists.",
  too_large: "That is too large to send.",
  over_quota: "Your storage for attachments is full; delete some or wait until old ones expire.",
  unsupported_version: "The other side speaks a protocol version we do not.",
  rate_limited: "Too many requests; slow down and try again shortly.",
  stranger_refused: "This person only accepts messages from friends.",
  peer_unreachable: "The other server cannot be reached right now; it will be retried.",
  unavailable: "The server is busy; try again shortly.",
  internal: "Something went wrong on the server.",
};

/** Codes worth retrying later with the same request. */
export const RETRYABLE: ReadonlySet<ErrorCode> = new Set(["peer_unreachable", "rate_limited", "unavailable", "internal"]);

export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

export class EmsgError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ERROR_SENTENCE[code]);
    this.code = code;
    this.name = "EmsgError";
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toJSON(): ErrorBody {
    return { error: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_STATUS, value);
}

/** Reads an error body from the wire; anything malformed becomes `internal`. */
export function errorFromBody(body: unknown, fallback: ErrorCode = "internal"): EmsgError {
  if (body && typeof body === "object") {
    const { error, message } = body as Record<string, unknown>;
    if (isErrorCode(error)) return new EmsgError(error, typeof message === "string" ? message : undefined);
  }
  return new EmsgError(fallback);
}
