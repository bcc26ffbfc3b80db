import * as v from "valibot";
import { type Address, domainOf } from "../address.js";
import { AttachmentContentSchema, type AttachmentContent, ATTACHMENT_MAX_BYTES } from "../attachment.js";
import { ATTACHMENT_ENC, DamagedAttachment, newAttachmentKey, sealedSize } from "../attachment-crypto.js";
import { fromB64u, toB64u } from "../base64url.js";
import { BLOB_PART_BYTES } from "../wire/blobs.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import {
  attachmentRecordOf,
  cancelUpload,
  createUpload,
  fetchAttachment,
  type FileSource,
  type KeptUploads,
  type MediaInfo,
  pointerFields,
  sealParts,
  sendKept,
  sendSealed,
  type TransferOptions,
  uploadStatus,
} from "./attachments.js";
import type { CoreContext, UploadProgress } from "./context.js";
import { findMessage, type MessageRecord, saveMessage, setStatus, UPLOAD_CANCELLED, UPLOAD_INTERRUPTED } from "./messages.js";
import { enqueue, nextQueued } from "./outgoing-queue.js";
import { cannotRetry, sendingAgain } from "./failed-sends.js";
import type { Store } from "./store.js";
import { canBatch, StoreBatch } from "./store-batch.js";

/**
 * Sending and fetching attachments (PROTOCOL §15) for one account. An upload runs beside the
 * client's serial lane (minutes for a large file must not hold up texts); only its pointer joins the
 * outgoing queue once the blob exists. An upload that meets no server stays stored and resumes on
 * the next connect, from the parts the server holds, while this process still has the file, or,
 * on a platform that keeps uploads (`KeptUploads`: the PWA, the extension), after the app was
 * closed and opened again; there, a failed upload's bytes also stay for Retry (UnsentFile). An
 * upload the core goes on with by itself reports its progress as `upload` events, and `cancel` stops any.
 */
interface UploadJob {
  id: string;
  sentAt: number;
  target: { conversation: string } | { peer: Address };
  fields: ReturnType<typeof pointerFields>;
  expiresAt?: number;
  /** Its place in the outgoing queue, taken when it was sent (jobs of older versions have none). */
  queued?: number;
  upload?: string;
  /** The sealed blob's SHA-256 (b64u), once all its parts are kept by the platform. */
  hash?: string;
}

const jobKey = (id: string) => `upload/${id}`;

/**
 * A failed upload whose bytes the platform keeps (`KeptUploads`) so that Retry still works after the
 * app was closed and opened again: its sealed parts, with the key (in `fields`) and `hash` they were
 * sealed under, or, for one that failed while being sealed, the file itself (no `hash`).
 */
interface UnsentFile {
  size: number;
  fields: UploadJob["fields"];
  hash?: string;
}

const unsentKey = (id: string) => `unsent/${id}`;

/**
 * At most this many bytes of failed files are kept across restarts, all together: the user's own
 * plaintext (or ciphertext whose key is on the same device) should not pile up unbounded. A failed
 * file past it is held only while this process lives; after a restart it offers Delete, not Retry.
 */
const UNSENT_KEPT_MAX_BYTES = ATTACHMENT_MAX_BYTES;

export interface AttachmentHost {
  context(): CoreContext;
  /** Sends what is queued (the pointer) soon, in turn with everything else. */
  sendSoon(): void;
  /** Where the platform keeps sealed parts across restarts, if it does. */
  kept(): KeptUploads | undefined;
}

export class AttachmentSends {
  readonly #host: AttachmentHost;
  /** Files being sent by this process, by message id. */
  readonly #sources = new Map<string, FileSource>();
  /** Files whose upload failed (cancelled, refused), kept while this process lives so Retry can upload them again. */
  readonly #unsent = new Map<string, FileSource>();
  /** How to stop each upload running now, by message id. */
  readonly #running = new Map<string, AbortController>();
  /** Where each upload the core went on with by itself stands, while it runs. */
  readonly #progress = new Map<string, UploadProgress>();

  constructor(host: AttachmentHost) {
    this.#host = host;
  }

  /**
   * Stores the message as `sending` with its upload job, to be shown at once; `run` then seals and
   * uploads the file and queues its pointer.
   */
  async prepare(
    message: Omit<MessageRecord, "id" | "text" | "at" | "status" | "attachment">,
    target: UploadJob["target"],
    source: FileSource,
    media: MediaInfo,
    now: number,
  ): Promise<MessageRecord> {
    const ctx = this.#host.context();
    if (source.size > ATTACHMENT_MAX_BYTES) throw new EmsgError("too_large", `A file is at most ${ATTACHMENT_MAX_BYTES / 1_048_576} MiB.`);
    const fields = pointerFields(source, media, newAttachmentKey());
    const id = randomId16();
    // Checked before anything is stored or uploaded: a bad name or type is refused here, not later
    // (the blob's id and hash do not exist yet; stand-ins of their form take their places).
    const expiry = message.expiresAt === undefined ? {} : { expiresAt: message.expiresAt };
    const draft = checkedDraft({ v: 1, id, sentAt: now, type: "attachment", blob: id, hash: fields.key, ...fields, ...expiry });
    const record: MessageRecord = { ...message, id, text: fields.name, at: now, status: "sending", attachment: { ...attachmentRecordOf(draft), state: "uploading" } };
    // Held before the job is stored: a resume() meanwhile must find it resumable, not fail it.
    this.#sources.set(id, source);
    // Together, or the job first where the store cannot write both at once: a reload between them
    // leaves a job that resume() fails (and drops) with no message, never a message `sending` for
    // ever with no upload behind it.
    await writtenTogether(ctx.store, async (store) => {
      // A message that expires takes its blob with it: the server deletes it then (`until`, §15.4).
      await store.put(jobKey(id), { id, sentAt: now, target, fields, ...expiry, queued: nextQueued() } satisfies UploadJob);
      await saveMessage({ store }, record);
    });
    // Kept until sealed: a reload while sealing seals it again rather than failing the message.
    await this.#host.kept()?.keepFile(id, source).catch((e: unknown) => console.warn(`emsg: a reload while this file is sealed will lose it: ${(e as Error).message}`));
    ctx.events.emit("message", record);
    return record;
  }

  /** Resumes every stored upload this process has the file of, or the platform kept; the others cannot go on and are failed. */
  async resume(): Promise<void> {
    const ctx = this.#host.context();
    for (const [, job] of await ctx.store.list<UploadJob>("upload/")) {
      if (this.#running.has(job.id)) continue;
      if (await this.#resumable(job)) await this.run(job.id);
      else await this.#fail(job, UPLOAD_INTERRUPTED);
    }
  }

  /** Where the upload stands, for each one the core went on with by itself and runs now. */
  uploads(): UploadProgress[] {
    return [...this.#progress.values()];
  }

  /** Stops an upload, running or waiting for a server: its message is marked failed, as cancelled. */
  async cancel(id: string): Promise<void> {
    const running = this.#running.get(id);
    if (running) return running.abort();
    const job = await this.#host.context().store.get<UploadJob>(jobKey(id));
    if (job) await this.#fail(job, UPLOAD_CANCELLED);
  }

  /** Whether this process, or the platform's keeping, still holds the file of a message whose upload failed, to upload it again. */
  async holdsFile(id: string): Promise<boolean> {
    return this.#unsent.has(id) || (await this.#host.context().store.get<UnsentFile>(unsentKey(id))) !== undefined;
  }

  /** Lets go of a failed upload's file, in this process and in the platform's keeping: its message was deleted, or cannot be sent again. */
  async forgetFile(id: string): Promise<void> {
    this.#unsent.delete(id);
    const store = this.#host.context().store;
    if (!(await store.get<UnsentFile>(unsentKey(id)))) return;
    await this.#host.kept()?.drop(id);
    await store.delete(unsentKey(id));
  }

  /**
   * Drops the kept bytes of every failed file that cannot be sent again: its message is gone (deleted,
   * expired), or its chat no longer takes what this device writes. Run in turn with Retry and Delete,
   * which hand those bytes on or drop them themselves.
   */
  async dropUnsendable(): Promise<void> {
    const ctx = this.#host.context();
    for (const [key] of await ctx.store.list<UnsentFile>("unsent/")) {
      const id = key.slice("unsent/".length);
      const message = await findMessage(ctx, id);
      // One not failed yet is an upload failing now (its bytes are kept just before its status is set).
      if (message?.id === id && (message.status !== "failed" || !(await cannotRetry(ctx, message, true)))) continue;
      await this.forgetFile(id);
    }
  }

  /**
   * Runs `erase`, which deletes every stored upload job and failed file (the account or device is gone), then
   * drops what the platform kept of them: their bytes must not outlive the account on this device.
   */
  async erasing(erase: () => Promise<void>): Promise<void> {
    const store = this.#host.context().store;
    const keys = [...(await store.list("upload/")), ...(await store.list("unsent/"))].map(([key]) => key);
    await erase();
    for (const key of keys) await this.#host.kept()?.drop(key.slice(key.indexOf("/") + 1));
    this.#unsent.clear();
    this.#sources.clear();
  }

  /**
   * Makes a failed upload's message `sending` again with a new job; `run` then uploads it and queues
   * its pointer. Parts the platform kept sealed are sent as they are, under the key they were sealed
   * with (nobody got it: no pointer went out); a file is sealed again under a new key.
   */
  async again(message: MessageRecord): Promise<MessageRecord> {
    const ctx = this.#host.context();
    const source = this.#unsent.get(message.id);
    const unsent = await ctx.store.get<UnsentFile>(unsentKey(message.id));
    if ((!source && !unsent) || !message.attachment) throw new EmsgError("not_found", "The file is no longer at hand on this device; send it again.");
    const { until: _until, ...attachment } = message.attachment;
    const { kind: _kind, state: _state, blob: _blob, hash: _hash, ...kept } = attachment;
    const sealed = unsent?.hash === undefined ? undefined : { fields: unsent.fields, hash: unsent.hash };
    const fields: UploadJob["fields"] = sealed?.fields ?? { ...kept, enc: ATTACHMENT_ENC, key: toB64u(newAttachmentKey()) };
    const target = message.conversation.startsWith("@") ? { peer: message.conversation.slice(1) as Address } : { conversation: message.conversation };
    const expiry = message.expiresAt === undefined ? {} : { expiresAt: message.expiresAt };
    // Stand-ins for the blob's id and hash until it exists, as `prepare` has them.
    const record: MessageRecord = { ...sendingAgain(message), attachment: { ...attachment, key: fields.key, blob: message.id, hash: fields.key, state: "uploading" } };
    this.#unsent.delete(message.id);
    if (source) this.#sources.set(message.id, source);
    // The job takes the kept bytes over in the same write: a reload after it resumes the upload.
    await writtenTogether(ctx.store, async (store) => {
      const job: UploadJob = { id: message.id, sentAt: message.at, target, fields, ...expiry, queued: nextQueued(), ...(sealed ? { hash: sealed.hash } : {}) };
      await store.put(jobKey(message.id), job);
      await store.delete(unsentKey(message.id));
      await saveMessage({ store }, record);
    });
    return record;
  }

  async #resumable(job: UploadJob): Promise<boolean> {
    const kept = this.#host.kept();
    return this.#sources.has(job.id) || (kept !== undefined && (job.hash !== undefined || (await kept.file(job.id)) !== undefined));
  }

  /**
   * Seals (unless the platform kept it sealed) and uploads a stored job, then queues its pointer.
   * Progress goes to `given` when a caller watches it, else out as `upload` events. Resolves when
   * the pointer is queued, or when the upload waits for a server (then it resumes on the next
   * connect); a refusal (over quota, say) marks the message failed and throws.
   */
  async run(id: string, given?: TransferOptions): Promise<void> {
    if (this.#running.has(id)) return;
    // Taken before any await: a second resume() meanwhile must not start the same upload again.
    const stop = new AbortController();
    this.#running.set(id, stop);
    const ctx = this.#host.context();
    const kept = this.#host.kept();
    let job = await ctx.store.get<UploadJob>(jobKey(id));
    if (!job || !(await this.#resumable(job))) return void this.#running.delete(id);
    if (given?.signal?.aborted) stop.abort();
    given?.signal?.addEventListener("abort", () => stop.abort(), { once: true });
    try {
      const options: TransferOptions = { signal: stop.signal, onProgress: given?.onProgress ?? (await this.#reporter(ctx, job)) };
      let sent: { blob: string; hash: string; until: number };
      if (kept) {
        // Sealed into the platform's keeping first, so the upload survives the app closing.
        if (job.hash === undefined) {
          const source = this.#sources.get(id) ?? (await kept.file(id))!;
          const hash = await sealParts(source, fromB64u(job.fields.key), BLOB_PART_BYTES, (n, bytes) => kept.put(id, n, bytes), options.signal);
          job = { ...job, hash: toB64u(hash) };
          await ctx.store.put(jobKey(id), job);
          await kept.dropFile(id);
        }
        const status = await this.#status(ctx, job);
        const done = await sendKept(ctx.api, status, (n) => kept.get(id, n), options);
        sent = { blob: done.blob, hash: job.hash!, until: done.until };
      } else {
        sent = await sendSealed(ctx.api, await this.#status(ctx, job), this.#sources.get(id)!, fromB64u(job.fields.key), options);
      }
      const { blob, hash, until } = sent;
      const expiry = job.expiresAt === undefined ? {} : { expiresAt: job.expiresAt };
      const content: AttachmentContent = { v: 1, id, sentAt: job.sentAt, type: "attachment", ...job.fields, blob, hash, until, ...expiry };
      const message = await findMessage(ctx, id);
      if (message) await this.#update(ctx, { ...message, attachment: attachmentRecordOf(content) });
      // In the place it was given when sent: a job run again after a restart writes the same entry.
      await enqueue(ctx, { content, ...job.target, queued: job.queued ?? 0 });
      await ctx.store.delete(jobKey(id));
      this.#sources.delete(id);
      await kept?.drop(id);
      this.#host.sendSoon();
    } catch (error) {
      if (stop.signal.aborted) await this.#fail(job, UPLOAD_CANCELLED);
      else if (error instanceof EmsgError && RETRYABLE.has(error.code)) console.warn(`emsg: an upload waits for the next connect: ${error.message}`);
      else {
        // A typed refusal (over quota, too large) is kept as its code, which each client words.
        await this.#fail(job, error instanceof EmsgError ? error.code : (error as Error).message);
        throw error;
      }
    } finally {
      this.#running.delete(id);
      const progress = this.#progress.get(id);
      this.#progress.delete(id);
      if (progress) ctx.events.emit("upload", { ...progress, running: false });
    }
  }

  /** Reports an upload nobody watches as `upload` events, starting at nothing sent. */
  async #reporter(ctx: CoreContext, job: UploadJob): Promise<NonNullable<TransferOptions["onProgress"]>> {
    const conversation = (await findMessage(ctx, job.id))?.conversation ?? "";
    const report = (done: number, total: number) => {
      const progress = { id: job.id, conversation, name: job.fields.name, done, total };
      this.#progress.set(job.id, progress);
      ctx.events.emit("upload", { ...progress, running: true });
    };
    report(0, sealedSize(job.fields.size));
    return report;
  }

  /** The upload's status on the server, started now if it was not yet (or was dropped there). */
  async #status(ctx: CoreContext, job: UploadJob) {
    return (job.upload && (await uploadStatus(ctx.api, job.upload).catch(notFoundAsUndefined))) || (await this.#start(ctx, job));
  }

  async #start(ctx: CoreContext, job: UploadJob) {
    const status = await createUpload(ctx.api, job.fields.size, job.expiresAt);
    await ctx.store.put(jobKey(job.id), { ...job, upload: status.upload });
    return status;
  }

  async #fail(given: UploadJob, error: string): Promise<void> {
    const ctx = this.#host.context();
    // As stored now: the upload may have been started since `given` was read.
    const job = (await ctx.store.get<UploadJob>(jobKey(given.id))) ?? given;
    if (job.upload) await cancelUpload(ctx.api, job.upload).catch((e: unknown) => console.warn(`emsg: the server drops the unfinished upload within a day: ${(e as Error).message}`));
    await ctx.store.delete(jobKey(job.id));
    const source = this.#sources.get(job.id);
    if (source) this.#unsent.set(job.id, source);
    this.#sources.delete(job.id);
    if (!(await this.#keepUnsent(ctx, job))) await this.#host.kept()?.drop(job.id);
    const message = await findMessage(ctx, job.id);
    if (message?.attachment) {
      const { state: _uploading, ...attachment } = message.attachment;
      await saveMessage(ctx, { ...message, attachment });
    }
    await setStatus(ctx, job.id, "failed", { error });
  }

  /**
   * Keeps a failed upload's bytes, where the platform has them and they fit under
   * UNSENT_KEPT_MAX_BYTES, for Retry after a restart; false when they are not kept.
   */
  async #keepUnsent(ctx: CoreContext, job: UploadJob): Promise<boolean> {
    const kept = this.#host.kept();
    // What Retry would need must be there: all the sealed parts (the first stands for them), else the file.
    if (!kept || !(job.hash === undefined ? await kept.file(job.id) : await kept.get(job.id, 1))) return false;
    const held = (await ctx.store.list<UnsentFile>("unsent/")).reduce((sum, [, unsent]) => sum + unsent.size, 0);
    if (held + job.fields.size > UNSENT_KEPT_MAX_BYTES) return false;
    await ctx.store.put(unsentKey(job.id), { size: job.fields.size, fields: job.fields, ...(job.hash === undefined ? {} : { hash: job.hash }) } satisfies UnsentFile);
    return true;
  }

  async #update(ctx: CoreContext, message: MessageRecord): Promise<void> {
    await saveMessage(ctx, message);
    ctx.events.emit("status", message);
  }

  /**
   * The plaintext of a message's attachment, fetched from its sender's server and checked. A blob
   * that fails a check is marked `damaged` and one the server no longer has `expired`; both throw.
   */
  async fetch(id: string, options: TransferOptions): Promise<Uint8Array> {
    const ctx = this.#host.context();
    const message = await findMessage(ctx, id);
    if (!message?.attachment) throw new EmsgError("not_found", "No such attachment on this device.");
    // Through this device's own server, which fetches another domain's blob from that domain (§15.3).
    const domain = domainOf(message.from);
    const path = domain === ctx.account.domain ? `/blobs/${message.attachment.blob}` : `/blobs/${domain}/${message.attachment.blob}`;
    const { state: _state, ...attachment } = message.attachment;
    try {
      const plain = await fetchAttachment(ctx.api, path, attachment, options);
      if (message.attachment.state) await this.#update(ctx, { ...message, attachment });
      return plain;
    } catch (error) {
      const state = error instanceof DamagedAttachment ? "damaged" : error instanceof EmsgError && error.code === "not_found" ? "expired" : undefined;
      if (state) await this.#update(ctx, { ...message, attachment: { ...attachment, state } });
      throw error;
    }
  }
}

/** Runs `write` as one write (all of it or none) where the store can, else its writes in order. */
async function writtenTogether(base: Store, write: (store: Store) => Promise<void>): Promise<void> {
  if (!canBatch(base)) return write(base);
  const batch = new StoreBatch(base);
  await write(batch);
  await batch.commit();
}

function checkedDraft(value: unknown): AttachmentContent {
  const parsed = v.safeParse(AttachmentContentSchema, value);
  if (!parsed.success) throw new EmsgError("bad_request", `This file cannot be sent: ${parsed.issues[0].message}`);
  return parsed.output;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof EmsgError && error.code === "not_found") return undefined;
  throw error;
}
