import * as v from "valibot";
import type { Address } from "./address.js";
import { EmsgError } from "./errors.js";
import { type ArchiveFile, type ArchiveOptions, openArchive, sealArchive } from "./export-archive.js";
import { fixedB64uSchema } from "./ids.js";
import { type DeviceCert, DeviceCertSchema, PublicKeySchema, verifyDeviceCert } from "./identity.js";
import { publicKeyOf } from "./move.js";
import { SettingsSchema } from "./wire/account.js";
import { AddressSchema, MsSchema } from "./wire/common.js";
import { ConversationRefSchema } from "./wire/conversation.js";
import { AttachmentContentSchema } from "./attachment.js";
import { EMOJI_MAX_CHARS } from "./content.js";

/**
 * What an export archive holds once opened (PROTOCOL §11): the account key pair, the exporting
 * device's identity, the friends with the keys pinned for them, groups, favorites, settings and chat history.
 * Unknown members are ignored, so a newer exporter's file still imports.
 */

const SeedSchema = fixedB64uSchema(32, "An account private key");
const MAX_ENTRIES = 100_000;

export const ArchiveFriendSchema = v.looseObject({ address: AddressSchema, accountKey: PublicKeySchema, since: MsSchema });
export type ArchiveFriend = v.InferOutput<typeof ArchiveFriendSchema>;

export const ArchiveGroupSchema = v.looseObject({
  conversation: ConversationRefSchema,
  members: v.pipe(v.array(AddressSchema), v.maxLength(1000)),
  // The group's name as last known (PROTOCOL §8.1); only shown, so any short text is taken.
  title: v.optional(v.pipe(v.string(), v.maxLength(400))),
});
export type ArchiveGroup = v.InferOutput<typeof ArchiveGroupSchema>;

/** A starred message, copied: `peer` names the chat it was starred in. */
export const ArchiveFavoriteSchema = v.looseObject({
  id: v.pipe(v.string(), v.maxLength(64)),
  peer: v.pipe(v.string(), v.maxLength(2048)),
  from: v.pipe(v.string(), v.maxLength(320)),
  text: v.pipe(v.string(), v.maxLength(65_536)),
  at: MsSchema,
});
export type ArchiveFavorite = v.InferOutput<typeof ArchiveFavoriteSchema>;
/** What an exporter gives for a favorite: the members the archive carries. */
export type FavoriteCopy = Pick<ArchiveFavorite, "id" | "peer" | "from" | "text" | "at">;

/**
 * Chat history carried to the new account (PROTOCOL §11): the newest `HISTORY_MAX_MESSAGES` texts
 * and files of every chat, without group notices, messages deleted for everyone or reactions. A file
 * travels as its pointer (the blob stays on its sender's server until it expires there). A device
 * link (§6) carries the same, with each message's reactions and how far ours got.
 */
export const HISTORY_MAX_MESSAGES = 20_000;

/** The reactions a link carries on one message at most (a writer keeps the newest). */
export const HISTORY_MAX_REACTIONS = 1000;

/** A reaction standing on a message: who, which emoji, and their clock when they sent it. */
export const ArchiveReactionSchema = v.looseObject({
  by: AddressSchema,
  // Only shown: one emoji, as the reaction carried it (PROTOCOL §8.1), within its length bound.
  emoji: v.pipe(v.string(), v.minLength(1), v.maxLength(2 * EMOJI_MAX_CHARS)),
  at: MsSchema,
});
export type ArchiveReaction = v.InferOutput<typeof ArchiveReactionSchema>;

export const ArchiveMessageSchema = v.looseObject({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  from: AddressSchema,
  text: v.pipe(v.string(), v.maxLength(65_536)),
  at: MsSchema,
  replyTo: v.optional(v.pipe(v.string(), v.maxLength(64))),
  editedAt: v.optional(MsSchema),
  expiresAt: v.optional(MsSchema),
  attachment: v.optional(AttachmentContentSchema),
  // A device link's history only (§6): the same account reads on where its other device stands.
  status: v.optional(v.picklist(["delivered", "read"])),
  reactions: v.optional(v.pipe(v.array(ArchiveReactionSchema), v.maxLength(HISTORY_MAX_REACTIONS))),
});
export type ArchiveMessage = v.InferOutput<typeof ArchiveMessageSchema>;

/** One chat's history: `chat` is the friend of a 1:1, or the group's conversation. */
export const ArchiveChatSchema = v.looseObject({
  chat: v.union([AddressSchema, ConversationRefSchema]),
  title: v.optional(v.pipe(v.string(), v.maxLength(400))),
  messages: v.pipe(v.array(ArchiveMessageSchema), v.maxLength(HISTORY_MAX_MESSAGES)),
});
export type ArchiveChat = v.InferOutput<typeof ArchiveChatSchema>;

/** A device's chat history, as an export (§11) and a device link (§6) carry it. */
export const HistorySchema = v.pipe(
  v.array(ArchiveChatSchema),
  v.maxLength(HISTORY_MAX_MESSAGES),
  v.check((chats) => chats.reduce((n, c) => n + c.messages.length, 0) <= HISTORY_MAX_MESSAGES, `A history carries at most ${HISTORY_MAX_MESSAGES} messages.`),
);

/**
 * The device that made the export: a move is handed to the old server signed as it (PROTOCOL §11),
 * so only an export of a device the account still has can move the account.
 */
export const ArchiveDeviceSchema = v.looseObject({ cert: DeviceCertSchema, priv: fixedB64uSchema(32, "A device private key") });
type ArchiveDeviceOutput = v.InferOutput<typeof ArchiveDeviceSchema>;
/** The device as an exporter gives it. */
export interface ArchiveDevice {
  cert: DeviceCert;
  priv: string;
}

const ContentsObjectSchema = v.looseObject({
  address: AddressSchema,
  accountKey: v.pipe(
    v.looseObject({ pub: PublicKeySchema, priv: SeedSchema }),
    v.check((k) => publicKeyOf(k.priv) === k.pub, "accountKey.pub is not the public key of accountKey.priv."),
  ),
  // Absent from exports made before moves needed it: such a file restores, but cannot announce the move.
  device: v.optional(ArchiveDeviceSchema),
  friends: v.pipe(v.array(ArchiveFriendSchema), v.maxLength(MAX_ENTRIES)),
  groups: v.pipe(v.array(ArchiveGroupSchema), v.maxLength(MAX_ENTRIES)),
  favorites: v.pipe(v.array(ArchiveFavoriteSchema), v.maxLength(MAX_ENTRIES)),
  // Absent from exports made before history moved with the account.
  history: v.optional(HistorySchema),
  settings: SettingsSchema,
  exportedAt: MsSchema,
});

/** The device's certificate is the account key's for this address, and `priv` is the key it certifies. */
function isOwnDevice(contents: v.InferOutput<typeof ContentsObjectSchema>): boolean {
  if (!contents.device) return true;
  try {
    const cert = verifyDeviceCert(contents.device.cert, { address: contents.address, accountKey: contents.accountKey.pub });
    return publicKeyOf(contents.device.priv) === cert.deviceKey;
  } catch {
    return false;
  }
}

export const ArchiveContentsSchema = v.pipe(
  ContentsObjectSchema,
  v.forward(v.check(isOwnDevice, "device.cert is not this account's certificate of the key device.priv."), ["device"]),
);
export type ArchiveContents = v.InferOutput<typeof ArchiveContentsSchema>;

/** Checks opened contents; anything not of the shape above is `bad_request`. */
export function parseArchiveContents(contents: unknown): ArchiveContents {
  const parsed = v.safeParse(ArchiveContentsSchema, contents);
  if (parsed.success) return parsed.output;
  const where = v.getDotPath(parsed.issues[0]);
  throw new EmsgError("bad_request", `The export opened, but its contents are damaged${where ? ` (${where})` : ""}: ${parsed.issues[0].message}`);
}

/** Reads an archive given as its JSON text, its bytes, or the parsed file. */
export function archiveFileOf(input: string | Uint8Array | unknown): unknown {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) return input;
  const text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: false }).decode(input);
  try {
    return JSON.parse(text);
  } catch {
    throw new EmsgError("bad_request", "This file is not an EMSG export: it is not JSON.");
  }
}

/** Opens an archive and checks its contents: `unauthorized` for a wrong passphrase, `bad_request` for a damaged file. */
export async function readAccountArchive(input: string | Uint8Array | unknown, passphrase: string, opts: ArchiveOptions = {}): Promise<ArchiveContents> {
  return parseArchiveContents(await openArchive(archiveFileOf(input), passphrase, opts));
}

export interface ArchiveSources {
  address: Address;
  accountKey: { pub: string; priv: string };
  device: ArchiveDevice;
  friends: readonly Pick<ArchiveFriend, "address" | "accountKey" | "since">[];
  groups: readonly Pick<ArchiveGroup, "conversation" | "members" | "title">[];
  favorites: readonly FavoriteCopy[];
  history?: readonly ArchiveChat[];
  settings: v.InferOutput<typeof SettingsSchema>;
  exportedAt: number;
}

/** The contents, with only the members this version defines (copied, so no stray fields leak in). */
export function archiveContents(s: ArchiveSources): ArchiveContents {
  return {
    address: s.address,
    accountKey: { pub: s.accountKey.pub, priv: s.accountKey.priv },
    // A certificate is kept exactly as signed, members this version does not know included.
    device: { cert: s.device.cert as ArchiveDeviceOutput["cert"], priv: s.device.priv },
    friends: s.friends.map(({ address, accountKey, since }) => ({ address, accountKey, since })),
    groups: s.groups.map(({ conversation, members, title }) => ({ conversation, members: [...members], ...(title === undefined ? {} : { title }) })),
    favorites: s.favorites.map(({ id, peer, from, text, at }) => ({ id, peer, from, text, at })),
    ...(s.history ? { history: s.history.map(({ chat, title, messages }) => ({ chat, ...(title === undefined ? {} : { title }), messages: messages.map(archiveMessage) })) } : {}),
    settings: { strangers: s.settings.strangers, retentionDays: s.settings.retentionDays },
    exportedAt: s.exportedAt,
  };
}

function archiveMessage({ id, from, text, at, replyTo, editedAt, expiresAt, attachment }: ArchiveMessage): ArchiveMessage {
  return { id, from, text, at, ...(replyTo === undefined ? {} : { replyTo }), ...(editedAt === undefined ? {} : { editedAt }), ...(expiresAt === undefined ? {} : { expiresAt }), ...(attachment ? { attachment } : {}) };
}

export function sealAccountArchive(contents: ArchiveContents, passphrase: string, opts: ArchiveOptions & { N?: number } = {}): Promise<ArchiveFile> {
  return sealArchive(contents, passphrase, opts);
}
