import * as v from "valibot";
import { jcsBytes } from "./canonical.js";
import { EmsgError } from "./errors.js";
import { Id16Schema, randomId16 } from "./ids.js";
import { type AttachmentContent, AttachmentContentSchema } from "./attachment.js";
import { type TimerContent, timerContent, TimerContentSchema, type TimerDays } from "./timer.js";
import { type Avatar, type ProfileContent, ProfileContentSchema } from "./profile.js";

/**
 * What a person sends, as the plaintext of an MLS application message (PROTOCOL §8.1): UTF-8 JCS of
 * one of the objects below. The MLS layer authenticates the sender; these bytes say what was said.
 */
export const CONTENT_VERSION = 1;
export const TEXT_MAX_CHARS = 16384;
export const RECEIPT_MAX_IDS = 100;
export const TITLE_MAX_CHARS = 100;
/** Keeps the b64u MLS message inside `maxMessageBytes` (65536) with room for MLS framing. */
export const CONTENT_MAX_BYTES = 48000;

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (s: string) => Array.from(segmenter.segment(s), (g) => g.segment);

const MsSchema = v.pipe(v.number(), v.safeInteger("A time must be whole milliseconds."), v.minValue(0, "A time cannot be before 1970."));

// Code points, not UTF-16 units, so the limit is the same for every script and every language.
const chars = (s: string) => [...s].length;

const TextSchema = v.pipe(
  v.string("The text must be text."),
  v.check((s) => chars(s) >= 1 && chars(s) <= TEXT_MAX_CHARS, `A message has 1 to ${TEXT_MAX_CHARS} characters.`),
  v.check((s) => !/[\uD800-\uDFFF]/u.test(s), "The text holds a broken character (a lone surrogate)."),
  // One spelling per text, so the same words compare, search and hash the same on every device.
  v.check((s) => s === s.normalize("NFC"), "The text must be in Unicode NFC form."),
);

export const TextContentSchema = v.pipe(
  v.object({
    v: v.literal(CONTENT_VERSION),
    id: Id16Schema,
    sentAt: MsSchema,
    type: v.literal("text"),
    text: TextSchema,
    replyTo: v.optional(Id16Schema),
    expiresAt: v.optional(MsSchema),
  }),
  v.check((c) => c.expiresAt === undefined || c.expiresAt > c.sentAt, "A message must expire after it was sent."),
);

export const ReceiptContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("receipt"),
  of: v.pipe(v.array(Id16Schema), v.minLength(1, "A receipt is for at least one message."), v.maxLength(RECEIPT_MAX_IDS, `A receipt covers at most ${RECEIPT_MAX_IDS} messages.`)),
  state: v.picklist(["delivered", "read"], "A receipt says delivered or read."),
});

const TitleSchema = v.pipe(
  v.string("A group's name must be text."),
  v.check((s) => chars(s) >= 1 && chars(s) <= TITLE_MAX_CHARS, `A group's name has 1 to ${TITLE_MAX_CHARS} characters.`),
  v.check((s) => !/[\uD800-\uDFFF]/u.test(s), "The name holds a broken character (a lone surrogate)."),
  v.check((s) => s === s.normalize("NFC"), "The name must be in Unicode NFC form."),
);

/** A group's name, sent at creation, on a rename and after an add (so new members learn it). */
export const GroupContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("group"),
  title: TitleSchema,
});

/** The sender leaves the group; a remaining member's device commits the removal (PROTOCOL §12). */
export const LeaveContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("leave"),
});

export const EMOJI_MAX_CHARS = 16;

const EmojiSchema = v.pipe(
  v.string("A reaction must be text."),
  v.check((s) => chars(s) >= 1 && chars(s) <= EMOJI_MAX_CHARS, `A reaction has 1 to ${EMOJI_MAX_CHARS} characters.`),
  v.check((s) => !/[\uD800-\uDFFF]/u.test(s), "The reaction holds a broken character (a lone surrogate)."),
  v.check((s) => s === s.normalize("NFC"), "The reaction must be in Unicode NFC form."),
  // One emoji (a ZWJ sequence or flag counts once), not words: a reaction is shown as one glyph.
  v.check((s) => [...graphemes(s)].length === 1, "A reaction is one emoji."),
);

/** The sender's reaction to the message `of`, added or taken back; the latest `sentAt` of a sender's per emoji holds. */
export const ReactionContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("reaction"),
  of: Id16Schema,
  emoji: EmojiSchema,
  op: v.picklist(["add", "remove"], "A reaction is added or removed."),
});

/** New words for the message `of`; receivers apply it only when the edit's sender wrote `of` (PROTOCOL §8.1). */
export const EditContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("edit"),
  of: Id16Schema,
  text: TextSchema,
});

/** Deletes the message `of` for everyone; receivers apply it only when its sender wrote `of`. */
export const DeleteContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("delete"),
  of: Id16Schema,
});

/** The sender is typing in the conversation (or stopped); never stored, shown for a few seconds. */
export const TypingContentSchema = v.object({
  v: v.literal(CONTENT_VERSION),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("typing"),
  state: v.picklist(["typing", "stopped"], "Typing says typing or stopped."),
});

// Unknown members are dropped (PROTOCOL §1: receivers ignore what they do not know).
export const ContentSchema = v.variant(
  "type",
  [
    TextContentSchema,
    ReceiptContentSchema,
    GroupContentSchema,
    LeaveContentSchema,
    ReactionContentSchema,
    EditContentSchema,
    DeleteContentSchema,
    TypingContentSchema,
    AttachmentContentSchema,
    TimerContentSchema,
    ProfileContentSchema,
  ],
  "Unknown kind of message content.",
);

export type TextContent = v.InferOutput<typeof TextContentSchema>;
export type ReceiptContent = v.InferOutput<typeof ReceiptContentSchema>;
export type GroupContent = v.InferOutput<typeof GroupContentSchema>;
export type LeaveContent = v.InferOutput<typeof LeaveContentSchema>;
export type ReactionContent = v.InferOutput<typeof ReactionContentSchema>;
export type EditContent = v.InferOutput<typeof EditContentSchema>;
export type DeleteContent = v.InferOutput<typeof DeleteContentSchema>;
export type TypingContent = v.InferOutput<typeof TypingContentSchema>;
export type Content = TextContent | ReceiptContent | GroupContent | LeaveContent | ReactionContent | EditContent | DeleteContent | TypingContent | AttachmentContent | TimerContent | ProfileContent;

function checked(value: unknown): Content {
  // Only a whole version other than ours is another version; a missing, fractional or non-number `v` is malformed.
  if (value && typeof value === "object" && "v" in value && Number.isSafeInteger(value.v) && value.v !== CONTENT_VERSION) {
    throw new EmsgError("unsupported_version", `Message content version ${value.v} is not spoken here.`);
  }
  const parsed = v.safeParse(ContentSchema, value);
  if (!parsed.success) throw new EmsgError("bad_request", `Bad message content: ${parsed.issues[0].message}`);
  return parsed.output;
}

/** The plaintext bytes of `content` for `encrypt`; refuses invalid content and oversize text. */
export function encodeContent(content: Content): Uint8Array {
  const bytes = jcsBytes(checked(content));
  if (bytes.length > CONTENT_MAX_BYTES) throw new EmsgError("too_large", `The message is over ${CONTENT_MAX_BYTES} bytes.`);
  return bytes;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The content of a decrypted application message; anything else is `bad_request`. */
export function decodeContent(bytes: Uint8Array): Content {
  if (bytes.length > CONTENT_MAX_BYTES) throw new EmsgError("too_large", `The message is over ${CONTENT_MAX_BYTES} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new EmsgError("bad_request", "Message content is not UTF-8 JSON.");
  }
  return checked(value);
}

/** A new text message as typed: NFC-normalized, with a fresh id. */
export function newText(text: string, sentAt: number, extra: { replyTo?: string; expiresAt?: number } = {}): TextContent {
  const content: TextContent = { v: CONTENT_VERSION, id: randomId16(), sentAt, type: "text", text: text.normalize("NFC") };
  if (extra.replyTo !== undefined) content.replyTo = extra.replyTo;
  if (extra.expiresAt !== undefined) content.expiresAt = extra.expiresAt;
  return checked(content) as TextContent;
}

export function newReceipt(of: string[], state: ReceiptContent["state"], sentAt: number): ReceiptContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "receipt", of, state }) as ReceiptContent;
}

/** A group's name as typed: NFC-normalized and trimmed; an empty or overlong name is `bad_request`. */
export function newGroupTitle(title: string, sentAt: number): GroupContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "group", title: title.normalize("NFC").trim() }) as GroupContent;
}

export function newLeave(sentAt: number): LeaveContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "leave" }) as LeaveContent;
}

export function newReaction(of: string, emoji: string, op: ReactionContent["op"], sentAt: number): ReactionContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "reaction", of, emoji: emoji.normalize("NFC"), op }) as ReactionContent;
}

/** New words for one's own message `of`, as typed (NFC-normalized). */
export function newEdit(of: string, text: string, sentAt: number): EditContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "edit", of, text: text.normalize("NFC") }) as EditContent;
}

export function newDelete(of: string, sentAt: number): DeleteContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "delete", of }) as DeleteContent;
}

export function newTyping(state: TypingContent["state"], sentAt: number): TypingContent {
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "typing", state }) as TypingContent;
}

/** One's profile (PROTOCOL §8.2) for a conversation: `setAt` stays as it was set, `sentAt` is now. */
export function newProfile(profile: { name: string; avatar?: Avatar; setAt: number }, sentAt: number): ProfileContent {
  const { name, avatar, setAt } = profile;
  return checked({ v: CONTENT_VERSION, id: randomId16(), sentAt, type: "profile", name, setAt, ...(avatar ? { avatar } : {}) }) as ProfileContent;
}

/** A conversation's disappearing-messages timer, for everyone in it (PROTOCOL §8.1). */
export function newTimer(days: TimerDays, sentAt: number): TimerContent {
  return checked(timerContent(days, sentAt)) as TimerContent;
}
