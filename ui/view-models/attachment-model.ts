import { THUMB_MAX_SIDE } from "../../shared/attachment.js";
import type { MediaInfo } from "../../shared/client/attachments.js";
import type { UploadProgress } from "../../shared/client/context.js";
import { EmsgError } from "../../shared/errors.js";
import type { ChatContext, PickedFile, PickedSource } from "./chat-context.js";
import { logFailure } from "./log-failure.js";
import { Observable } from "./observable.js";

/** A transfer on screen: bytes moved of the total, and how to stop it. */
export interface Transfer {
  direction: "up" | "down";
  name: string;
  done: number;
  total: number;
  cancel(): void;
}

export type { PickedFile } from "./chat-context.js";

const DEFAULT_NAMES: Record<string, string> = { "image/png": "image.png", "image/jpeg": "image.jpg", "image/gif": "image.gif", "image/webp": "image.webp" };

function sourceOf(file: PickedFile, name?: string): PickedSource {
  return {
    picked: file,
    // A pasted screenshot has no name of its own.
    name: name ?? (file.name || DEFAULT_NAMES[file.type] || "file"),
    mediaType: /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(file.type.toLowerCase().split(";")[0]!) ? file.type.toLowerCase().split(";")[0]! : "application/octet-stream",
    size: file.size,
    read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()),
  };
}

/** An image's size in pixels and a JPEG of at most 64 px a side, shown until the photo is fetched. */
async function imageInfo(file: PickedFile): Promise<MediaInfo> {
  if (!/^image\/(jpeg|png|gif|webp|avif)$/.test(file.type) || typeof createImageBitmap !== "function" || typeof OffscreenCanvas !== "function") return {};
  try {
    const bitmap = await createImageBitmap(file as unknown as Blob);
    const scale = Math.min(1, THUMB_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext("2d")!.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const thumb = new Uint8Array(await (await canvas.convertToBlob({ type: "image/jpeg", quality: 0.6 })).arrayBuffer());
    const info: MediaInfo = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return thumb.length <= 6144 ? { ...info, thumb } : info;
  } catch (error) {
    // Not an image the browser can read: it goes as a file card instead of a preview.
    console.warn("emsg: no preview for this image", error);
    return {};
  }
}

/**
 * The attachments of one open conversation (PROTOCOL §15): sending picked, dropped and pasted files
 * and voice notes, fetching received ones into object URLs to show or save, and the progress of each,
 * uploads the core went on with by itself (after a reload, or back online) among them.
 */
export class AttachmentsViewModel extends Observable {
  readonly #ctx: ChatContext;
  readonly #target: () => string;
  readonly #holds: (conversation: string) => boolean;
  /** Resumed uploads already ended, so a late answer to `uploads()` does not show them again. */
  readonly #ended = new Set<string>();
  readonly #unsubscribe: () => void;
  /**
   * Downloads by message id; uploads by a temporary key until the core names the message, and
   * resumed uploads as `resumed-{message id}`.
   */
  transfers = new Map<string, Transfer>();
  /** Fetched and checked attachments as object URLs, by message id. */
  urls = new Map<string, string>();
  error: string | null = null;
  recording: { started: number; stop(): void } | null = null;

  /** `holds`: whether a message's `conversation` is this chat's. */
  constructor(ctx: ChatContext, target: () => string, holds: (conversation: string) => boolean) {
    super();
    this.#ctx = ctx;
    this.#target = target;
    this.#holds = holds;
    this.#unsubscribe = ctx.client.events.on("upload", (upload) => this.#resumed(upload, upload.running));
    // Uploads that went on before this chat was opened show at once, not at their next part.
    void ctx.client.uploads().then((uploads) => {
      for (const upload of uploads) if (!this.#ended.has(upload.id) && !this.transfers.has(`resumed-${upload.id}`)) this.#resumed(upload, true);
    }, logFailure("an upload that went on by itself shows its bar with its next part"));
  }

  #resumed(upload: UploadProgress, running: boolean): void {
    if (!this.#holds(upload.conversation)) return;
    const key = `resumed-${upload.id}`;
    if (running) {
      const { name, done, total } = upload;
      this.transfers.set(key, { direction: "up", name, done, total, cancel: () => void this.#ctx.client.cancelUpload(upload.id).catch(logFailure("the upload goes on")) });
    } else {
      this.#ended.add(upload.id);
      this.transfers.delete(key);
    }
    this.changed();
  }

  #errorText(error: unknown): string {
    return error instanceof EmsgError ? error.message : this.#ctx.t("file.failed");
  }

  async sendFiles(files: readonly PickedFile[], extra: MediaInfo = {}, name?: string): Promise<void> {
    for (const file of files) {
      const key = `up-${Math.random()}`;
      const abort = new AbortController();
      const transfer: Transfer = { direction: "up", name: name ?? file.name, done: 0, total: file.size, cancel: () => abort.abort() };
      this.transfers.set(key, transfer);
      this.error = null;
      this.changed();
      try {
        const media = { ...(await imageInfo(file)), ...extra };
        await this.#ctx.client.sendFile(this.#target(), sourceOf(file, name), media, {
          signal: abort.signal,
          onProgress: (done, total) => {
            this.transfers.set(key, { ...transfer, done, total });
            this.changed();
          },
        });
      } catch (error) {
        if (!abort.signal.aborted) this.error = this.#errorText(error);
      } finally {
        this.transfers.delete(key);
        this.changed();
      }
    }
  }

  /** Fetches, checks and keeps a received (or sent) attachment as an object URL to show or save. */
  async open(id: string, name: string, mediaType: string): Promise<string | undefined> {
    const held = this.urls.get(id);
    if (held || this.transfers.has(id)) return held;
    const abort = new AbortController();
    const transfer: Transfer = { direction: "down", name, done: 0, total: 1, cancel: () => abort.abort() };
    this.transfers.set(id, transfer);
    this.changed();
    try {
      const bytes = await this.#ctx.client.downloadAttachment(id, {
        signal: abort.signal,
        onProgress: (done, total) => {
          this.transfers.set(id, { ...transfer, done, total });
          this.changed();
        },
      });
      const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mediaType }));
      this.urls.set(id, url);
      return url;
    } catch (error) {
      // Damaged or expired: the message itself now says so; other failures are shown here.
      if (!abort.signal.aborted && !(error instanceof EmsgError && (error.code === "not_found" || error.code === "bad_request"))) this.error = this.#errorText(error);
      return undefined;
    } finally {
      this.transfers.delete(id);
      this.changed();
    }
  }

  /** Starts recording a voice note from the microphone; `stopRecording` sends it. */
  async startRecording(): Promise<void> {
    if (this.recording) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const recorder = new MediaRecorder(stream);
      const chunks: Blob[] = [];
      const started = Date.now();
      recorder.ondataavailable = (e) => chunks.push(e.data);
      recorder.onstop = () => {
        for (const track of stream.getTracks()) track.stop();
        const durationMs = Date.now() - started;
        const type = (recorder.mimeType || "audio/webm").split(";")[0]!;
        const file = new File(chunks, "voice", { type });
        void this.sendFiles([file], { voice: true, durationMs }, `voice-${new Date(started).toISOString().slice(0, 19).replace(/[:T]/g, "-")}.${type.split("/")[1]}`);
      };
      recorder.start();
      this.recording = { started, stop: () => recorder.stop() };
    } catch (error) {
      this.error = this.#ctx.t("file.noMicrophone");
      console.warn("emsg: no microphone", error);
    }
    this.changed();
  }

  stopRecording(): void {
    this.recording?.stop();
    this.recording = null;
    this.changed();
  }

  dispose(): void {
    this.#unsubscribe();
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
}
