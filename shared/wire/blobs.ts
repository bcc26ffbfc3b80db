import * as v from "valibot";
import { Id16Schema } from "../ids.js";

/** Blob upload and status bodies (PROTOCOL §15.3). Sizes are of the sealed blob, as the server stores it. */

/** R2 takes parts of at least 5 MiB, all of one size but the last. */
export const BLOB_PART_BYTES = 5_242_880;

const Bytes = v.pipe(v.number("A size is a number."), v.safeInteger("A size is whole bytes."), v.minValue(1, "A blob holds at least one byte."));
const Ms = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const CreateUploadSchema = v.object({
  size: Bytes,
  /** Delete the blob then, if sooner than the server would (a message that expires, say). */
  until: v.optional(Ms),
});
export type CreateUpload = v.InferOutput<typeof CreateUploadSchema>;

export const UploadStatusSchema = v.object({
  upload: Id16Schema,
  blob: Id16Schema,
  size: Bytes,
  partBytes: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  parts: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  /** Part numbers (from 1) the server holds. */
  held: v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  until: Ms,
});
export type UploadStatus = v.InferOutput<typeof UploadStatusSchema>;

export const BlobDoneSchema = v.object({ blob: Id16Schema, size: Bytes, until: Ms });
export type BlobDone = v.InferOutput<typeof BlobDoneSchema>;

export const BlobUsageSchema = v.object({ used: v.pipe(v.number(), v.safeInteger(), v.minValue(0)), quota: Bytes, maxBlobBytes: Bytes });
export type BlobUsage = v.InferOutput<typeof BlobUsageSchema>;

/** Parts of a blob of `size` bytes. */
export function partCount(size: number, partBytes = BLOB_PART_BYTES): number {
  return Math.max(1, Math.ceil(size / partBytes));
}

/** Bytes of part `n` (from 1). */
export function partLength(size: number, n: number, partBytes = BLOB_PART_BYTES): number {
  return n < partCount(size, partBytes) ? partBytes : size - (partCount(size, partBytes) - 1) * partBytes;
}
