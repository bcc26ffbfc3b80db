import * as v from "valibot";
import type { ImportProgress, ImportResult, MessageRecord } from "../../shared/client/index.js";
import type { Reply } from "./messages.js";

/**
 * Files between the extension's pages and its background go over the service worker's own
 * `postMessage` with a MessagePort each, not `runtime.sendMessage`: that one turns everything into
 * JSON, so a 20 MiB file would cross as text. Here a picked file crosses as the `Blob` it is (a
 * handle, its bytes stay where the browser keeps them) and a downloaded one as a transferred buffer.
 */
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
/** An archive's text: 20,000 messages of history (HISTORY_MAX_MESSAGES) fit many times over; a string this long still fits V8. */
const ARCHIVE_MAX_CHARS = 256 * 1024 * 1024;
const Dimension = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000));

export const FileRequestSchema = v.variant("kind", [
  v.object({
    kind: v.literal("upload"),
    target: Text(400),
    name: Text(255),
    mediaType: Text(255),
    file: v.instance(Blob),
    media: v.object({
      width: v.optional(Dimension),
      height: v.optional(Dimension),
      // A thumbnail is a few KiB (PROTOCOL §15.1); the core checks its bound again.
      thumb: v.optional(v.custom<Uint8Array>((b) => b instanceof Uint8Array && b.length <= 8192)),
      durationMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      voice: v.optional(v.boolean()),
    }),
  }),
  v.object({ kind: v.literal("download"), id: Text(100) }),
  // The account sealed with a passphrase (PROTOCOL §11): a file the background makes, with history it may be large.
  v.object({ kind: v.literal("export"), passphrase: Text(1000) }),
  // An export moved in (PROTOCOL §11), its text as the page read it. With `address`, this device has no
  // account yet and becomes that new address (at `server`); without, the archive moves into the account here.
  v.object({
    kind: v.literal("import"),
    archive: Text(ARCHIVE_MAX_CHARS),
    passphrase: Text(1000),
    address: v.optional(Text(400)),
    server: v.optional(Text(400)),
  }),
]);

export type FileRequest = v.InferOutput<typeof FileRequestSchema>;

/** What the page sends on the port while a transfer runs. */
export interface FileCancel {
  cancel: true;
}

export function isCancel(message: unknown): message is FileCancel {
  return (message as { cancel?: unknown } | null)?.cancel === true;
}

/**
 * The name of a `runtime.connect` port that carries one transfer, where the background is a page,
 * not a service worker (Firefox, whose ports clone Blobs and buffers rather than turn them to JSON).
 */
export const FILE_PORT = "emsg-file";

/** What comes back on the port: progress as it goes, then one end. */
export type FileAnswer =
  | { progress: [done: number, total: number] }
  | { step: ImportProgress }
  | { sent: MessageRecord }
  | { bytes: ArrayBuffer }
  | { imported: ImportResult }
  | { failed: Reply<never> };

/** The page's end of one transfer's channel: a MessagePort to the service worker, or a runtime port. */
export interface FileChannel {
  post(message: FileRequest | FileCancel): void;
  /** Every answer, in order; `gone` when the other end went away without one that ends it. */
  listen(onAnswer: (answer: FileAnswer) => void, onGone: () => void): void;
  close(): void;
}

export type FileEnd = Exclude<FileAnswer, { progress: unknown } | { step: unknown } | { failed: unknown }>;

/**
 * Asks for one transfer on `channel`: progress goes to `onProgress` (an import's steps to `onStep`), an
 * abort sends a cancel, and the first answer that is not progress ends it (a failure as the error it names).
 */
export function requestFile(
  channel: FileChannel,
  request: FileRequest,
  { signal, onProgress, onStep }: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; onStep?: (progress: ImportProgress) => void },
  toError: (failed: Extract<FileAnswer, { failed: unknown }>["failed"]) => Error,
): Promise<FileEnd> {
  return new Promise((resolve, reject) => {
    let ended = false;
    const cancel = () => channel.post({ cancel: true });
    signal?.addEventListener("abort", cancel, { once: true });
    const end = () => {
      ended = true;
      signal?.removeEventListener("abort", cancel);
      channel.close();
    };
    channel.listen(
      (answer) => {
        if (ended) return;
        if ("progress" in answer) return onProgress?.(...answer.progress);
        if ("step" in answer) return onStep?.(answer.step);
        end();
        if ("failed" in answer) reject(toError(answer.failed));
        else resolve(answer);
      },
      () => {
        if (ended) return;
        end();
        reject(toError({ ok: false, error: "unavailable", message: "EMSG's background stopped before the file was done; try again." }));
      },
    );
    channel.post(request);
  });
}
