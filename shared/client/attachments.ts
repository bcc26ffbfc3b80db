import * as v from "valibot";
import { type AttachmentContent, attachmentKind } from "../attachment.js";
import { AttachmentOpener, AttachmentSealer, ATTACHMENT_ENC, sealedSize } from "../attachment-crypto.js";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { BlobDoneSchema, UploadStatusSchema, type UploadStatus } from "../wire/blobs.js";
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
 * Seals `source` under `key` and sends the parts the server does not hold yet, then completes the
 * blob. Sealing is deterministic for a key, so a resumed upload seals again and skips held parts.
 */
export async function sendSealed(
  api: ServerApi,
  upload: UploadStatus,
  source: FileSource,
  key: Uint8Array,
  { onProgress, signal }: TransferOptions = {},
): Promise<{ blob: string; hash: string; until: number }> {
  const total = sealedSize(source.size);
  if (upload.size !== total) throw new EmsgError("conflict", "The upload was started for a file of another size.");
  const held = new Set(upload.held);
  const sealer = new AttachmentSealer(key, source.size);
  const part = new Uint8Array(upload.partBytes);
  let filled = 0;
  let number = 1;
  let done = Math.min(held.size * upload.partBytes, total);
  onProgress?.(done, total);
  const flush = async () => {
    const n = number++;
    const bytes = part.slice(0, filled);
    filled = 0;
    if (held.has(n)) return;
    await retrying(signal, () => api.callBytes("PUT", `/blobs/uploads/${upload.upload}/parts/${n}`, bytes, UploadStatusSchema));
    done += bytes.length;
    onProgress?.(done, total);
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
  checkAbort(signal);
  const blob = await retrying(signal, () => api.call("POST", `/blobs/uploads/${upload.upload}/complete`, undefined, BlobDoneSchema));
  return { blob: blob.blob, hash: toB64u(hash), until: blob.until };
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
  while (got < total) {
    const to = Math.min(got + DOWNLOAD_RANGE_BYTES, total) - 1;
    const bytes = await retrying(signal, () => api.getBytes(path, got, to));
    // An empty answer would never end the loop; a short one is taken as far as it goes.
    if (bytes.length === 0) break;
    plain.push(...(await opener.push(bytes)));
    got += bytes.length;
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
