import type { Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import type { DiscoveryDoc } from "../shared/discovery.js";
import {
  answerFrame,
  FederationInboxRequestSchema,
  MAX_BATCH_NUMBER,
  MAX_STREAM_BATCHES_APPLYING,
  MAX_STREAM_FRAME_BYTES,
  readAnswerFrame,
  readBatchFrame,
  STREAM_CLOSE,
  STREAM_MAX_AGE_MS,
  STREAM_PATH,
  STREAM_REUSE_MS,
  writeBatchNumber,
} from "../shared/wire/index.js";
import { admitStreamBatch } from "./auth.js";
import { holdBatch, tooManyBatchBytes } from "./batch-hold.js";
import { itemId, receiveBatch } from "./federation-inbox.js";
import { parseJson } from "./http.js";
import { signedFor } from "./federation-client.js";
import type { Env } from "./env.js";
import type { SigningKey } from "./server.js";

/**
 * Federation streams (PROTOCOL §7): a WebSocket from a sending server's Outbox to a peer, opened
 * by a signed request, each batch one binary frame and its answer one text frame. A request
 * body leaves this runtime a few KB per idle turn of the sending thread, so during a burst a
 * batch reached the peer ~200 ms after its headers; a frame leaves whole, and a batch needs no
 * signature of its own.
 */

/** A batch's answer as the inbox gives it over HTTP: its status and its JSON text. */
export interface StreamAnswer {
  status: number;
  text: string;
}

interface Waiting {
  resolve: (answer: StreamAnswer) => void;
  reject: (error: unknown) => void;
}

/** The sending side: one Outbox's stream to its peer. */
export class FederationStream {
  private next = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closed = false;
  private retired = false;
  private readonly openedAt = Date.now();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => this.answer(event.data));
    socket.addEventListener("close", () => this.close());
    socket.addEventListener("error", () => this.close());
  }

  /**
   * Opens a stream to the peer with a signed GET (no body, so no content-digest), or gives the
   * status the peer answered without upgrading (404 from a server that takes batches by POST
   * only). Throws `peer_unreachable` when the peer cannot be reached.
   */
  static async open(env: Env, doc: DiscoveryDoc, key: SigningKey, signal: AbortSignal): Promise<FederationStream | { refused: number }> {
    const { url, headers } = await signedFor(env, doc, key, "GET", STREAM_PATH);
    headers.upgrade = "websocket";
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: "manual", signal });
    } catch {
      throw new EmsgError("peer_unreachable", `${doc.domain} cannot be reached.`);
    }
    const socket = res.webSocket;
    if (res.status !== 101 || !socket) {
      await res.body?.cancel();
      return { refused: res.status };
    }
    socket.accept();
    socket.binaryType = "arraybuffer";
    return new FederationStream(socket);
  }

  /** Whether new batches may go on this stream: open, not retired, and young enough. */
  usable(now: number): boolean {
    return !this.closed && !this.retired && now - this.openedAt < STREAM_REUSE_MS;
  }

  /**
   * Sends one batch: `frame` holds its body after the number's bytes, and gets the number written
   * in place. Rejects when the stream closes before the answer, or when `signal` fires first (the
   * peer is silent: the stream is closed, so every batch on it is sent again).
   */
  send(frame: Uint8Array, signal: AbortSignal): Promise<StreamAnswer> {
    if (this.closed || signal.aborted || frame.byteLength > MAX_STREAM_FRAME_BYTES) return Promise.reject(new EmsgError("peer_unreachable", "The stream cannot take that batch."));
    const n = this.next;
    this.next = n === MAX_BATCH_NUMBER ? 1 : n + 1;
    writeBatchNumber(frame, n);
    return new Promise<StreamAnswer>((resolve, reject) => {
      this.waiting.set(n, { resolve, reject });
      signal.addEventListener("abort", () => this.close(), { once: true });
      try {
        this.socket.send(frame);
      } catch {
        this.close();
      }
    });
  }

  /** Takes no new batches, and closes once those sent are answered. */
  retire(): void {
    this.retired = true;
    if (this.waiting.size === 0) this.close();
  }

  /** Closes now: batches not yet answered fail, and the Outbox sends them again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close(1000, "done");
    } catch {
      // Closed by the peer already.
    }
    for (const w of this.waiting.values()) w.reject(new EmsgError("peer_unreachable", "The stream closed before the peer answered."));
    this.waiting.clear();
  }

  /** An answer frame; anything else, or an answer to no batch waiting, breaks the stream. */
  private answer(data: unknown): void {
    const frame = typeof data === "string" ? readAnswerFrame(data) : null;
    const waiting = frame ? this.waiting.get(frame.n) : undefined;
    if (!frame || !waiting) return this.close();
    this.waiting.delete(frame.n);
    waiting.resolve({ status: frame.status, text: frame.json });
    if (this.retired && this.waiting.size === 0) this.close();
  }
}

/**
 * The receiving side: `from` opened the stream with a signed request (checked, its nonce and a
 * token taken). Each batch frame is taken as a `POST /federation/inbox` body would be, but for its
 * signature: a token of the peer's bucket, dedupe, each item applied and answered.
 */
export function acceptStream(env: Env, from: Domain): Response {
  return new Response(null, { status: 101, webSocket: streamSocket(from, (body) => takeBatch(env, from, body)) });
}

/**
 * The client end of a stream from `from` whose batch bodies `apply` takes: at most
 * MAX_STREAM_BATCHES_APPLYING of the stream's at a time, and within the isolate's byte bounds for
 * the peer and for all peers. A batch beyond them is answered 429 without being read.
 */
export function streamSocket(from: Domain, apply: (body: Uint8Array) => Promise<StreamAnswer>): WebSocket {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  server.binaryType = "arraybuffer";
  const refuse = (code: number, reason: string) => {
    try {
      server.close(code, reason);
    } catch {
      // Closed already.
    }
  };
  const answer = (n: number, { status, text }: StreamAnswer) => {
    try {
      server.send(answerFrame(n, status, text));
    } catch {
      // The peer closed: it sends the batch again, and the dedupe answers what was applied.
    }
  };
  const tooOld = setTimeout(() => refuse(STREAM_CLOSE.tooOld, "This stream is too old: open another."), STREAM_MAX_AGE_MS);
  server.addEventListener("close", () => {
    clearTimeout(tooOld);
    refuse(1000, "done");
  });
  let applying = 0;
  server.addEventListener("message", (event) => {
    const frame = typeof event.data === "string" ? null : readBatchFrame(event.data);
    if (!frame) return refuse(STREAM_CLOSE.unsupported, "A batch is a binary frame that starts with its number.");
    if (applying >= MAX_STREAM_BATCHES_APPLYING) return answer(frame.n, TOO_MANY);
    const release = holdBatch(from, frame.body.byteLength);
    if (!release) return answer(frame.n, TOO_MUCH);
    applying++;
    void apply(frame.body)
      .then((result) => answer(frame.n, result))
      .finally(() => {
        applying--;
        release();
      });
  });
  return client;
}

const TOO_MANY: StreamAnswer = {
  status: 429,
  text: JSON.stringify(new EmsgError("rate_limited", `At most ${MAX_STREAM_BATCHES_APPLYING} batches of a stream are applied at once: send this one again once one is answered.`).toJSON()),
};

const TOO_MUCH: StreamAnswer = { status: 429, text: JSON.stringify(tooManyBatchBytes().toJSON()) };

async function takeBatch(env: Env, from: Domain, body: Uint8Array): Promise<StreamAnswer> {
  try {
    const items = parseJson(body, FederationInboxRequestSchema).items;
    const seen = await admitStreamBatch(env, from, items.map(itemId));
    return { status: 200, text: JSON.stringify({ results: await receiveBatch(env, from, items, seen) }) };
  } catch (e) {
    if (!(e instanceof EmsgError)) console.error("emsg: unexpected error in a federation stream's batch", e);
    const error = e instanceof EmsgError ? e : new EmsgError("internal", "The batch could not be applied.");
    return { status: error.status, text: JSON.stringify({ error: error.code, message: error.message }) };
  }
}
