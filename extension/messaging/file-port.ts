import * as v from "valibot";
import type { MessageRecord } from "../../shared/client/index.js";
import type { Reply } from "./messages.js";

/**
 * Files between the extension's pages and its background go over the service worker's own
 * `postMessage` with a MessagePort each, not `runtime.sendMessage`: that one turns everything into
 * JSON, so a 20 MiB file would cross as text. Here a picked file crosses as the `Blob` it is (a
 * handle, its bytes stay where the browser keeps them) and a downloaded one as a transferred buffer.
 */
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
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
]);

export type FileRequest = v.InferOutput<typeof FileRequestSchema>;

/** What the page sends on the port while a transfer runs. */
export interface FileCancel {
  cancel: true;
}

/** What comes back on the port: progress as it goes, then one end. */
export type FileAnswer =
  | { progress: [done: number, total: number] }
  | { sent: MessageRecord }
  | { bytes: ArrayBuffer }
  | { failed: Reply<never> };
