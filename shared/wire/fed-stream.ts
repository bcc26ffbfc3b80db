/**
 * A federation stream's frames (PROTOCOL §7): one WebSocket from a sending server to a peer,
 * opened by a signed request, carrying inbox batches one to a binary frame and their answers
 * one to a text frame, so a batch leaves as one write instead of an HTTP request's body.
 */

/** Where a stream is opened, under the receiver's `api` base. */
export const STREAM_PATH = "/federation/stream";

/** The largest frame either side sends or takes: a Worker takes WebSocket messages up to 1 MiB. */
export const MAX_STREAM_FRAME_BYTES = 1_048_576;

/** The bytes before a batch's body in its frame: its number, unsigned 32-bit big-endian. */
export const BATCH_NUMBER_BYTES = 4;

/** The largest batch body a frame carries. */
export const MAX_STREAM_BODY_BYTES = MAX_STREAM_FRAME_BYTES - BATCH_NUMBER_BYTES;

/**
 * How long a sender keeps opening batches on one stream: its signature vouched for the peer's key
 * when it opened, so a stream is replaced before a revoked key could outlive it by much.
 */
export const STREAM_REUSE_MS = 5 * 60_000;

/** A receiver closes a stream this long after it opened (a sender replaces it well before). */
export const STREAM_MAX_AGE_MS = 10 * 60_000;

/**
 * Batches of one stream a receiver applies at once. Frames cost the sender nothing to send, so
 * without a bound a peer could have a receiver hold and parse any number of 1 MiB batches at a
 * time; one that comes while this many are unanswered is answered 429 unread. A sender keeps
 * fewer in flight (the reference keeps at most three a stream).
 */
export const MAX_STREAM_BATCHES_APPLYING = 8;

/**
 * Batch bytes a receiver's isolate applies at once from one peer, over all its streams and POSTs:
 * each stream is bounded above, but a peer may open many (one signed GET each) and POST at will.
 * A batch that would pass this is answered 429 unread, as one past the stream's bound is.
 */
export const MAX_PEER_BATCH_BYTES_APPLYING = 16 * 1_048_576;

/** Batch bytes a receiver's isolate applies at once from all peers together, so many peers cannot pile up what one may not. */
export const MAX_BATCH_BYTES_APPLYING = 32 * 1_048_576;

/** Close codes a receiver gives a sender that broke the framing. */
export const STREAM_CLOSE = { unsupported: 1003, tooLarge: 1009, tooOld: 4000 } as const;

/** The largest batch number: numbers are a sender's own, unique among its stream's unanswered batches. */
export const MAX_BATCH_NUMBER = 0xffff_ffff;

/** Writes `n` into the first BATCH_NUMBER_BYTES of `frame`, whose rest already holds the batch's body. */
export function writeBatchNumber(frame: Uint8Array, n: number): void {
  new DataView(frame.buffer, frame.byteOffset, BATCH_NUMBER_BYTES).setUint32(0, n);
}

/** A batch frame's number and body; null when it is too short to hold a number. */
export function readBatchFrame(frame: ArrayBuffer): { n: number; body: Uint8Array } | null {
  if (frame.byteLength < BATCH_NUMBER_BYTES) return null;
  return { n: new DataView(frame).getUint32(0), body: new Uint8Array(frame, BATCH_NUMBER_BYTES) };
}

/** An answer's frame: the batch's number, its HTTP status and the answer's JSON, as the inbox would give it. */
export function answerFrame(n: number, status: number, json: string): string {
  return `${n} ${status} ${json}`;
}

const ANSWER_HEAD = /^(0|[1-9]\d{0,9}) ([1-5]\d\d) /;

/** An answer frame's parts; null when it is not one. */
export function readAnswerFrame(frame: string): { n: number; status: number; json: string } | null {
  const head = ANSWER_HEAD.exec(frame);
  if (!head) return null;
  const n = Number(head[1]);
  if (n > MAX_BATCH_NUMBER) return null;
  return { n, status: Number(head[2]), json: frame.slice(head[0].length) };
}
