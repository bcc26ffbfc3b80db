import * as v from "valibot";
import { b64uByteLength, fromB64u, isCanonicalB64u } from "./base64url.js";
import { Id16Schema } from "./ids.js";

/**
 * A person's display name and avatar, sent inside MLS to friends and group members only
 * (PROTOCOL §8.2), as Signal shares a profile with those it trusts and never with a server.
 * It is a claim of its sender: the account it describes is the MLS sender, never a field.
 */
export const PROFILE_NAME_MAX_CHARS = 64;
/** An avatar travels inline: its sender shrinks it to 256×256 (or less) and re-encodes it this small. */
export const AVATAR_MAX_BYTES = 24576;
export const AVATAR_MAX_SIDE = 256;
export const AVATAR_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
export type AvatarType = (typeof AVATAR_TYPES)[number];

const MsSchema = v.pipe(v.number(), v.safeInteger("A time must be whole milliseconds."), v.minValue(0, "A time cannot be before 1970."));
const chars = (s: string) => [...s].length;

// Controls (C0, DEL, C1), line and paragraph separators, bidi marks, overrides and isolates, and
// invisible spaces: each could hide or reorder what a reader sees of a name.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

/** Why `name` cannot be a display name, or undefined when it can. */
export function displayNameProblem(name: string): string | undefined {
  if (/[\uD800-\uDFFF]/u.test(name)) return "The name holds a broken character (a lone surrogate).";
  if (chars(name) < 1 || chars(name) > PROFILE_NAME_MAX_CHARS) return `A name has 1 to ${PROFILE_NAME_MAX_CHARS} characters.`;
  if (name !== name.normalize("NFC")) return "A name must be in Unicode NFC form.";
  if (name !== name.trim()) return "A name does not start or end with a space.";
  if (HIDDEN.test(name)) return "A name holds no control, direction or invisible characters.";
  return undefined;
}

/** A name as typed: NFC, trimmed, inner runs of spaces made one. */
export function tidyDisplayName(typed: string): string {
  return typed.normalize("NFC").trim().replace(/\s+/gu, " ");
}

const DisplayNameSchema = v.pipe(
  v.string("A name must be text."),
  v.check((s) => displayNameProblem(s) === undefined, (issue) => displayNameProblem(issue.input as string) ?? "Bad name."),
);

const MAGIC: Record<AvatarType, (b: Uint8Array) => boolean> = {
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/png": (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x),
  "image/webp": (b) => String.fromCharCode(...b.subarray(0, 4)) === "RIFF" && String.fromCharCode(...b.subarray(8, 12)) === "WEBP",
};

export const AvatarSchema = v.pipe(
  v.object({
    mediaType: v.picklist(AVATAR_TYPES, "An avatar is a JPEG, PNG or WebP image."),
    data: v.pipe(
      v.string("An avatar is b64u."),
      v.check((s) => isCanonicalB64u(s) && b64uByteLength(s.length) >= 12 && b64uByteLength(s.length) <= AVATAR_MAX_BYTES, `An avatar is 12 to ${AVATAR_MAX_BYTES} bytes as b64u.`),
    ),
  }),
  // The bytes are what they say: a receiver hands them to an image decoder under that type only.
  v.check((a) => MAGIC[a.mediaType](fromB64u(a.data)), "The avatar's bytes are not of its media type."),
);

/** `setAt` is when the profile was set: repeats (to a new friend, a new member) carry it unchanged. */
export const ProfileContentSchema = v.pipe(
  v.object({
    v: v.literal(1),
    id: Id16Schema,
    sentAt: MsSchema,
    type: v.literal("profile"),
    name: DisplayNameSchema,
    setAt: MsSchema,
    avatar: v.optional(AvatarSchema),
  }),
  v.check((c) => c.setAt <= c.sentAt, "A profile is set before it is sent."),
);

export type Avatar = v.InferOutput<typeof AvatarSchema>;
export type ProfileContent = v.InferOutput<typeof ProfileContentSchema>;

/** What a device keeps of a profile: its own, or the latest of another account. */
export interface Profile {
  name: string;
  avatar?: Avatar;
  setAt: number;
}

/** Whether `next` replaces `held`: the later `setAt` wins, and a tie keeps what is held. */
export function isNewerProfile(held: Profile | undefined, next: Pick<Profile, "setAt">): boolean {
  return held === undefined || next.setAt > held.setAt;
}

/** The media type an avatar file has by its first bytes, or undefined when it is none of AVATAR_TYPES. */
export function avatarTypeOf(bytes: Uint8Array): AvatarType | undefined {
  return AVATAR_TYPES.find((type) => MAGIC[type](bytes));
}
