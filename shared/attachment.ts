import * as v from "valibot";
import { b64uByteLength, isCanonicalB64u } from "./base64url.js";
import { ATTACHMENT_ENC } from "./attachment-crypto.js";
import { fixedB64uSchema, Id16Schema } from "./ids.js";

/**
 * The pointer to an attachment, sent as message content (PROTOCOL §15): where the sealed blob is
 * (an id on the sender's own server), how to open and check it, and what to show before it is
 * fetched. Like MIMI's external part (url, size, key, contentHash, filename) and Signal's
 * AttachmentPointer (cdnKey, digest, width/height, thumbnail, voice flag, duration).
 */
export const ATTACHMENT_MAX_BYTES = 104_857_600;
export const NAME_MAX_CHARS = 255;
export const THUMB_MAX_BYTES = 6144;
export const THUMB_MAX_SIDE = 64;
export const DURATION_MAX_MS = 24 * 3600 * 1000;

const MsSchema = v.pipe(v.number(), v.safeInteger("A time must be whole milliseconds."), v.minValue(0, "A time cannot be before 1970."));
const chars = (s: string) => [...s].length;

/** RFC 6838 type/subtype, lower case, no parameters: it picks how a receiver shows the file. */
const MediaTypeSchema = v.pipe(
  v.string("A media type must be text."),
  v.regex(/^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/, "A media type is type/subtype in lower case, with no parameters."),
);

// A name is shown and used to save the file: no path separators, no control or bidi characters.
const NameSchema = v.pipe(
  v.string("A file name must be text."),
  v.check((s) => chars(s) >= 1 && chars(s) <= NAME_MAX_CHARS, `A file name has 1 to ${NAME_MAX_CHARS} characters.`),
  v.check((s) => !/[\uD800-\uDFFF]/u.test(s), "The file name holds a broken character (a lone surrogate)."),
  v.check((s) => s === s.normalize("NFC"), "A file name must be in Unicode NFC form."),
  v.check((s) => !/[/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(s) && s !== "." && s !== "..", "A file name holds no path separator or control character."),
);

const SideSchema = v.pipe(v.number(), v.safeInteger("A side is whole pixels."), v.minValue(1, "A side is at least 1 pixel."), v.maxValue(65535, "A side is at most 65535 pixels."));

const ThumbSchema = v.pipe(
  v.string("A thumbnail is b64u."),
  v.check((s) => isCanonicalB64u(s) && b64uByteLength(s.length) >= 1 && b64uByteLength(s.length) <= THUMB_MAX_BYTES, `A thumbnail is 1 to ${THUMB_MAX_BYTES} bytes of JPEG as b64u.`),
);

export const AttachmentContentSchema = v.pipe(
  v.object({
    v: v.literal(1),
    id: Id16Schema,
    sentAt: MsSchema,
    type: v.literal("attachment"),
    blob: Id16Schema,
    size: v.pipe(v.number(), v.safeInteger("A size is whole bytes."), v.minValue(0, "A size is not negative."), v.maxValue(ATTACHMENT_MAX_BYTES, `An attachment is at most ${ATTACHMENT_MAX_BYTES} bytes.`)),
    mediaType: MediaTypeSchema,
    name: NameSchema,
    enc: v.literal(ATTACHMENT_ENC, `Attachments are sealed with ${ATTACHMENT_ENC}.`),
    key: fixedB64uSchema(32, "An attachment key"),
    hash: fixedB64uSchema(32, "An attachment hash"),
    until: v.optional(MsSchema),
    width: v.optional(SideSchema),
    height: v.optional(SideSchema),
    thumb: v.optional(ThumbSchema),
    durationMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(DURATION_MAX_MS, "A recording is at most a day long."))),
    voice: v.optional(v.literal(true)),
    replyTo: v.optional(Id16Schema),
    expiresAt: v.optional(MsSchema),
  }),
  v.check((c) => (c.width === undefined) === (c.height === undefined), "Width and height come together."),
  v.check((c) => c.voice === undefined || (c.mediaType.startsWith("audio/") && c.durationMs !== undefined), "A voice note is audio with a duration."),
  v.check((c) => c.until === undefined || c.until > c.sentAt, "A blob is kept until after it was sent."),
  v.check((c) => c.expiresAt === undefined || c.expiresAt > c.sentAt, "A message must expire after it was sent."),
);

export type AttachmentContent = v.InferOutput<typeof AttachmentContentSchema>;

/** How a receiver shows an attachment, by its pointer alone. */
export type AttachmentKind = "image" | "voice" | "audio" | "video" | "file";

const INLINE_IMAGES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"]);

export function attachmentKind(c: Pick<AttachmentContent, "mediaType" | "voice">): AttachmentKind {
  if (c.voice) return "voice";
  // Only raster formats a browser decodes safely are shown inline; an SVG (it may hold script) is a file.
  if (INLINE_IMAGES.has(c.mediaType)) return "image";
  if (c.mediaType.startsWith("audio/")) return "audio";
  if (c.mediaType.startsWith("video/")) return "video";
  return "file";
}
