import * as v from "valibot";
import { type AttachmentContent, attachmentKind } from "../attachment.js";
import { AttachmentOpener, AttachmentSealer, ATTACHMENT_ENC, sealedSize } from "../attachment-crypto.js";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { BLOB_PART_BYTES, BlobDoneSchema, type BlobDone, UploadStatusSchema, type UploadStatus } from "../wire/blobs.js";
import type { ServerApi } from "./server-api.js";

/**
 * Moving an attachment's sealed bytes (PROTOCOL §15): up to this device's own server in parts,
 * resuming from the parts it holds, and down from the sender's server in ranges, checked as they
 * come. No timers: a part or range that fails is tried again at once a few times, then the error
 * goes to the caller, which tries again on the next connect.
 */

/** What is sent: the platform reads the file in pieces, so a large one is never whole in memory. */
export interface FileSource {
  name: string;
  mediaType: string;
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** What a receiver shows before fetching: an image's size and thumbnail, a voice note's length. */
export interface MediaInfo {
  width?: number;
  height?: number;
  /** A JPEG of at most 64 px a side. */
  thumb?: Uint8Array;
  durationMs?: number;
  voice?: boolean;
}

export interface TransferOptions {
  /** Bytes moved so far out of the total, after each part or range. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * An attachment as a message record keeps it: the pointer's fields (the key among them; the store
 * holds plaintext anyway) and, on the sender's device, where its upload stands. `state`: `damaged`
 * when a download failed its checks, `expired` when the server no longer has it.
 */
export interface AttachmentRecord {
  blob: string;
  size: number;
  mediaType: string;
  name: string;
  key: string;
  hash: string;
  until?: number;
  width?: number;
  height?: number;
  thumb?: string;
  durationMs?: number;
  voice?: true;
  kind: ReturnType<typeof attachmentKind>;
  state?: "uploading" | "damaged" | "expired";
}

export function attachmentRecordOf(c: AttachmentContent): AttachmentRecord {
  const { blob, size, mediaType, name, key, hash, until, width, height, thumb, durationMs, voice } = c;
  return Object.fromEntries(
    Object.entries({ blob, size, mediaType, name, key, hash, until, width, height, thumb, durationMs, voice, kind: attachmentKind(c) }).filter(([, val]) => val !== undefined),
  ) as unknown as AttachmentRecord;
}

/** The pointer a record was made from, to send it again (a hub refused it as stale, PROTOCOL §6). */
export function attachmentContentOf(id: string, sentAt: number, a: AttachmentRecord): AttachmentContent {
  const { kind: _kind, state: _state, ...fields } = a;
  return { v: 1, id, sentAt, type: "attachment", enc: ATTACHMENT_ENC, ...fields };
}

/** The pointer's fields for a file sealed under `key`, before its blob exists. */
export function pointerFields(source: FileSource, media: MediaInfo, key: Uint8Array): Omit<AttachmentContent, "v" | "id" | "sentAt" | "type" | "blob" | "hash"> {
  return {
    size: source.size,
    mediaType: source.mediaType.toLowerCase(),
    name: source.name.normalize("NFC"),
    enc: ATTACHMENT_ENC,
    key: toB64u(key),
    ...(media.width !== undefined && media.height !== undefined ? { width: media.width, height: media.height } : {}),
    ...(media.thumb ? { thumb: toB64u(media.thumb) } : {}),
    ...(media.durationMs !== undefined ? { durationMs: Math.round(media.durationMs) } : {}),
    ...(media.voice ? { voice: true as const } : {}),
  };
}

const READ_BYTES = 1_048_576;
const DOWNLOAD_RANGE_BYTES = 8_388_608;
const TRIES = 3;
/**
 * Parts on their way at once while the next is sealed: sealing on the device and storing on the
 * server overlap instead of taking turns (a part in flight is 5 MiB held in memory).
 */
const PARTS_IN_FLIGHT = 3;

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EmsgError("bad_request", "The transfer was cancelled.");
}

async function retrying<T>(signal: AbortSignal | undefined, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    checkAbort(signal);
    try {
      return await step();
    } catch (error) {
      if (attempt >= TRIES || !(error instanceof EmsgError) || !RETRYABLE.has(error.code)) throw error;
    }
  }
}

/** Starts an upload of `size` sealed bytes on this device's own server. */
export function createUpload(api: ServerApi, size: number, until?: number): Promise<UploadStatus> {
  return api.call("POST", "/blobs/uploads", until === undefined ? { size: sealedSize(size) } : { size: sealedSize(size), until }, UploadStatusSchema);
}

export function uploadStatus(api: ServerApi, upload: string): Promise<UploadStatus> {
  return api.call("GET", `/blobs/uploads/${upload}`, undefined, UploadStatusSchema);
}

export async function cancelUpload(api: ServerApi, upload: string): Promise<void> {
  await api.call("DELETE", `/blobs/uploads/${upload}`);
}

/**
 * Where a platform keeps a file's sealed parts until its upload is complete, across restarts of
 * the app (the PWA and the extension: IndexedDB), by message id. Parts are ciphertext: the key
 * stays in the store with the upload. Parts are of `BLOB_PART_BYTES`, as the server takes them (§15.3).
 * The file itself is kept only while it is being sealed (a second or so), so a restart then seals
 * it again instead of losing it; it is dropped as soon as its sealed parts are all kept. When the
 * upload fails, what is kept stays for Retry (attachment-sends.ts, UNSENT_KEPT_MAX_BYTES) until the
 * message is sent, deleted or can no longer be sent.
 */
export interface KeptUploads {
  put(id: string, n: number, bytes: Uint8Array): Promise<void>;
  get(id: string, n: number): Promise<Uint8Array | undefined>;
  /** Keeps the file being sealed, where the platform can (a file it handed over as a Blob). */
  keepFile(id: string, source: FileSource): Promise<void>;
  file(id: string): Promise<FileSource | undefined>;
  dropFile(id: string): Promise<void>;
  /** Drops the parts and the file. */
  drop(id: string): Promise<void>;
}

/**
 * Seals `source` under `key` and hands over the sealed blob in parts of `partBytes` (numbered from
 * 1), in order; resolves with the blob's SHA-256. Sealing is deterministic for a key, so sealing
 * again gives the same parts.
 */
export async function sealParts(
  source: FileSource,
  key: Uint8Array,
  partBytes: number,
  onPart: (n: number, bytes: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const sealer = new AttachmentSealer(key, source.size);
  const part = new Uint8Array(partBytes);
  let filled = 0;
  let number = 1;
  const flush = async () => {
    const bytes = part.slice(0, filled);
    filled = 0;
    await onPart(number++, bytes);
  };
  const take = async (sealed: Uint8Array) => {
    for (let at = 0; at < sealed.length; ) {
      const n = Math.min(part.length - filled, sealed.length - at);
      part.set(sealed.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === part.length) await flush();
    }
  };
  for (let offset = 0; offset < source.size; offset += READ_BYTES) {
    checkAbort(signal);
    const plain = await source.read(offset, Math.min(READ_BYTES, source.size - offset));
    for (const chunk of await sealer.push(plain)) await take(chunk);
  }
  const { last, hash } = await sealer.finish();
  await take(last);
  if (filled > 0) await flush();
  return hash;
}

/**
 * Sends the parts of one upload the server does not hold yet, a few at once, and completes the
 * blob once all are there. Progress counts the held parts as done from the start.
 */
class PartSender {
  readonly #api: ServerApi;
  readonly #upload: UploadStatus;
  readonly #options: TransferOptions;
  readonly #held: Set<number>;
  readonly #sending = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;
  #done: number;

  constructor(api: ServerApi, upload: UploadStatus, options: TransferOptions) {
    this.#api = api;
    this.#upload = upload;
    this.#options = options;
    this.#held = new Set(upload.held);
    this.#done = Math.min(this.#held.size * upload.partBytes, upload.size);
    options.onProgress?.(this.#done, upload.size);
  }

  needs(n: number): boolean {
    return !this.#held.has(n);
  }

  /** Starts sending part `n`, once fewer than `PARTS_IN_FLIGHT` are on their way; a failure throws here or in `finish`. */
  async send(n: number, bytes: Uint8Array): Promise<void> {
    if (!this.needs(n)) return;
    while (this.#sending.size >= PARTS_IN_FLIGHT) await Promise.race(this.#sending);
    if (this.#failure) throw this.#failure.error;
    const { onProgress, signal } = this.#options;
    const put: Promise<void> = retrying(signal, () => this.#api.callBytes("PUT", `/blobs/uploads/${this.#upload.upload}/parts/${n}`, bytes, UploadStatusSchema))
      .then(
        () => {
          this.#done += bytes.length;
          onProgress?.(this.#done, this.#upload.size);
        },
        (error: unknown) => void (this.#failure ??= { error }),
      )
      .finally(() => this.#sending.delete(put));
    this.#sending.add(put);
  }

  async finish(): Promise<BlobDone> {
    await Promise.all(this.#sending);
    if (this.#failure) throw this.#failure.error;
    checkAbort(this.#options.signal);
    return retrying(this.#options.signal, () => this.#api.call("POST", `/blobs/uploads/${this.#upload.upload}/complete`, undefined, BlobDoneSchema));
  }
}

/**
 * Seals `source` under `key` and sends the parts the server does not hold yet, then completes the
 * blob. A resumed upload seals again and skips the held parts.
 */
export async function sendSealed(
  api: ServerApi,
  upload: UploadStatus,
  source: FileSource,
  key: Uint8Array,
  options: TransferOptions = {},
): Promise<{ blob: string; hash: string; until: number }> {
  if (upload.size !== sealedSize(source.size)) throw new EmsgError("conflict", "The upload was started for a file of another size.");
  const sender = new PartSender(api, upload, options);
  const hash = await sealParts(source, key, upload.partBytes, (n, bytes) => sender.send(n, bytes), options.signal);
  const blob = await sender.finish();
  return { blob: blob.blob, hash: toB64u(hash), until: blob.until };
}

/** Sends the parts the server does not hold yet from where the platform kept them sealed, then completes the blob. */
export async function sendKept(api: ServerApi, upload: UploadStatus, part: (n: number) => Promise<Uint8Array | undefined>, options: TransferOptions = {}): Promise<BlobDone> {
  if (upload.partBytes !== BLOB_PART_BYTES) throw new EmsgError("conflict", `The server takes parts of ${upload.partBytes} bytes; this file was kept in parts of ${BLOB_PART_BYTES}.`);
  const sender = new PartSender(api, upload, options);
  for (let n = 1; n <= upload.parts; n++) {
    if (!sender.needs(n)) continue;
    checkAbort(options.signal);
    const bytes = await part(n);
    if (!bytes) throw new EmsgError("not_found", `Part ${n} of the file is no longer kept on this device; send the file again.`);
    await sender.send(n, bytes);
  }
  return sender.finish();
}

const BlobIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/));

/**
 * Fetches the sealed blob at `path` (on this device's own server) in ranges and opens it: the plaintext, or
 * `DamagedAttachment` (a tag, the length or the hash does not hold) or `not_found` (expired).
 * Nothing is handed back before every check passed.
 */
export async function fetchAttachment(api: ServerApi, path: string, att: AttachmentRecord, { onProgress, signal }: TransferOptions = {}): Promise<Uint8Array> {
  if (!v.is(BlobIdSchema, att.blob)) throw new EmsgError("bad_request", "Not a blob id.");
  const total = sealedSize(att.size);
  const opener = new AttachmentOpener(fromB64u(att.key), att.size, fromB64u(att.hash));
  const plain: Uint8Array[] = [];
  let got = 0;
  onProgress?.(0, total);
  const range = (from: number) => {
    const fetching = retrying(signal, () => api.getBytes(path, from, Math.min(from + DOWNLOAD_RANGE_BYTES, total) - 1));
    // Asked for ahead: a range never awaited (the blob proved damaged first) must not be an unhandled failure.
    fetching.catch(() => undefined);
    return fetching;
  };
  let next = range(0);
  while (got < total) {
    const bytes = await next;
    // An empty answer would never end the loop; a short one is taken as far as it goes.
    if (bytes.length === 0) break;
    got += bytes.length;
    // The next range comes while this one is opened and checked.
    if (got < total) next = range(got);
    plain.push(...(await opener.push(bytes)));
    onProgress?.(got, total);
  }
  plain.push(await opener.finish());
  const out = new Uint8Array(att.size);
  let at = 0;
  for (const p of plain) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
