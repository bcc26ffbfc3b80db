import * as v from "valibot";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type Address, asAddress } from "./address.js";
import { fromB64u, toB64u } from "./base64url.js";
import { jcsBytes } from "./canonical.js";
import { EmsgError } from "./errors.js";
import { isB64uOfLength } from "./ids.js";
import { AddressSchema, MsSchema } from "./wire/common.js";
import { LINK_SEALED_MAX_CHARS, SettingsSchema } from "./wire/account.js";
import { type ArchiveChat, type ArchiveMessage, HistorySchema } from "./account-archive.js";

/**
 * Linking a new device to an account (PROTOCOL §6, "Device links"): the existing device seals a
 * link bundle (the account key, friends with their pinned keys, settings, and its newest messages
 * as far as they fit) under a fresh 32-byte link key and uploads it; the link code, shown as text
 * and QR, carries the key to the new device. The server only ever holds the sealed bytes.
 */

export const LINK_PREFIX = "emsg-link:";
export const LINK_VERSION = "1";
export const LINK_KEY_BYTES = 32;
export const LINK_NONCE_BYTES = 24;
/** The bundle's UTF-8 bytes that seal within LINK_SEALED_MAX_CHARS (the 16-byte tag is appended). */
const LINK_PLAINTEXT_MAX_BYTES = (LINK_SEALED_MAX_CHARS / 4) * 3 - 16;

export interface LinkCode {
  address: Address;
  id: string;
  key: Uint8Array;
}

/** `emsg-link:1:ADDRESS:ID:b64u(linkKey)`: the text the existing device shows (and puts in its QR). */
export function formatLinkCode(code: LinkCode): string {
  return `${LINK_PREFIX}${LINK_VERSION}:${code.address}:${code.id}:${toB64u(code.key)}`;
}

/**
 * Reads a link code typed or scanned on the new device. Surrounding whitespace is ignored; another
 * version is `unsupported_version`; anything else malformed is `bad_request`.
 */
export function parseLinkCode(text: string): LinkCode {
  if (typeof text !== "string") throw new EmsgError("bad_request", "A link code is text.");
  const trimmed = text.trim();
  if (!trimmed.startsWith(LINK_PREFIX)) throw new EmsgError("bad_request", "This is not an EMSG link code.");
  const parts = trimmed.slice(LINK_PREFIX.length).split(":");
  if (!/^\d{1,9}$/.test(parts[0]!)) throw new EmsgError("bad_request", "A link code is emsg-link:1:ADDRESS:ID:KEY.");
  if (parts[0] !== LINK_VERSION) {
    throw new EmsgError("unsupported_version", `This link code is version ${parts[0]}; this app reads version ${LINK_VERSION}.`);
  }
  if (parts.length !== 4) throw new EmsgError("bad_request", "A link code is emsg-link:1:ADDRESS:ID:KEY.");
  const address = asAddress(parts[1]);
  if (!isB64uOfLength(parts[2]!, 16)) throw new EmsgError("bad_request", "The id in the link code is not 16 bytes of base64url.");
  if (!isB64uOfLength(parts[3]!, LINK_KEY_BYTES)) throw new EmsgError("bad_request", "The key in the link code is not 32 bytes of base64url.");
  return { address, id: parts[2]!, key: fromB64u(parts[3]!) };
}

const FriendStateSchema = v.picklist(["friend", "outgoing", "incoming", "held", "blocked"]);

/** A friend as the bundle carries it: the key the existing device pinned travels with it. */
export const LinkFriendSchema = v.object({
  address: AddressSchema,
  accountKey: v.union([v.literal(""), v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 32), "A pinned key is 32 bytes."))]),
  state: FriendStateSchema,
  since: MsSchema,
  note: v.optional(v.pipe(v.string(), v.maxLength(1024))),
  requestId: v.optional(v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 16), "A request id is 16 bytes."))),
});
export type LinkFriend = v.InferOutput<typeof LinkFriendSchema>;

export const LinkBundleSchema = v.object({
  emsgLink: v.literal(1),
  address: AddressSchema,
  accountKey: v.object({
    pub: v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 32), "accountKey.pub is 32 bytes.")),
    priv: v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 32), "accountKey.priv is 32 bytes.")),
  }),
  friends: v.array(LinkFriendSchema),
  settings: SettingsSchema,
  created: MsSchema,
  // The existing device's newest messages that fit (withHistory); absent from links made before it was carried.
  history: v.optional(HistorySchema),
});
export type LinkBundle = v.InferOutput<typeof LinkBundleSchema>;

const utf8Length = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

/** No more messages than this fit a bundle, each at least as long as the shortest message and its comma. */
export const LINK_HISTORY_MAX_MESSAGES = Math.floor(LINK_PLAINTEXT_MAX_BYTES / (utf8Length({ id: "i", from: "a#b.c" as Address, text: "", at: 0 } satisfies ArchiveMessage) + 1));

/**
 * `bundle` with the newest messages of `history` (chats as §11's export holds them) that fit the
 * sealed limit after everything else it carries: the cut is by time across all chats, so the new
 * device starts with every chat's latest words, not one chat's whole past; a message too long for
 * this bundle even alone is left out. JSON.stringify's length is JCS's for these values (strings
 * escaped alike, integers), so what is counted is what is sealed.
 */
export function withHistory(bundle: LinkBundle, history: readonly ArchiveChat[]): LinkBundle {
  const room = LINK_PLAINTEXT_MAX_BYTES - utf8Length({ ...bundle, history: [] });
  let left = room;
  const newestFirst = history
    .flatMap((chat, index) => chat.messages.map((message, position) => ({ index, position, message })))
    .sort((a, b) => b.message.at - a.message.at);
  const taken = new Map<number, { position: number; message: ArchiveMessage }[]>();
  for (const entry of newestFirst) {
    const chat = taken.get(entry.index);
    // A message and its comma; a chat's first one brings the chat's own JSON with it.
    const own = utf8Length(entry.message) + 1;
    // One this bundle could not carry even alone (a very long text) is left out, not the whole past behind it.
    if (own > room) continue;
    const cost = own + (chat ? 0 : utf8Length({ ...history[entry.index]!, messages: [] }) + 1);
    if (cost > left) break;
    left -= cost;
    if (chat) chat.push(entry);
    else taken.set(entry.index, [entry]);
  }
  if (taken.size === 0) return bundle;
  const kept = [...taken]
    .sort(([a], [b]) => a - b)
    .map(([index, entries]) => ({ ...history[index]!, messages: entries.sort((a, b) => a.position - b.position).map((e) => e.message) }));
  return { ...bundle, history: kept };
}

export interface SealedLink {
  nonce: string;
  sealed: string;
}

/** The associated data binds a sealed bundle to its code: it opens only for that address and id. */
function associatedData(address: Address, id: string): Uint8Array {
  return new TextEncoder().encode(`${LINK_PREFIX}${LINK_VERSION}:${address}:${id}`);
}

/** XChaCha20-Poly1305 over UTF8(JCS(bundle)) with the link key; `nonce` is 24 random bytes. */
export function sealLinkBundle(bundle: LinkBundle, code: LinkCode, nonce: Uint8Array = crypto.getRandomValues(new Uint8Array(LINK_NONCE_BYTES))): SealedLink {
  if (bundle.address !== code.address) throw new EmsgError("bad_request", "The bundle is for another address than the code.");
  const plaintext = jcsBytes(bundle);
  const sealed = xchacha20poly1305(code.key, nonce, associatedData(code.address, code.id)).encrypt(plaintext);
  plaintext.fill(0);
  if (toB64u(sealed).length > LINK_SEALED_MAX_CHARS) throw new EmsgError("too_large", "There are too many friends to link a device in one step.");
  return { nonce: toB64u(nonce), sealed: toB64u(sealed) };
}

/**
 * Opens a sealed bundle with the code's key. A wrong key or changed bytes is `unauthorized`;
 * a bundle that opens but is malformed, or whose account key pair does not match, is `bad_request`.
 */
export function openLinkBundle(sealed: SealedLink, code: LinkCode): LinkBundle {
  if (!isB64uOfLength(sealed.nonce, LINK_NONCE_BYTES)) throw new EmsgError("bad_request", "The link's nonce is not 24 bytes.");
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(code.key, fromB64u(sealed.nonce), associatedData(code.address, code.id)).decrypt(fromB64u(sealed.sealed));
  } catch {
    throw new EmsgError("unauthorized", "The link code does not open this link: a wrong code, or the link was changed.");
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(plaintext));
  } catch {
    throw new EmsgError("bad_request", "The link opened but does not hold JSON.");
  } finally {
    plaintext.fill(0);
  }
  const parsed = v.safeParse(LinkBundleSchema, json);
  if (!parsed.success) throw new EmsgError("bad_request", `The link bundle is malformed: ${parsed.issues[0].message}`);
  const bundle = parsed.output;
  if (bundle.address !== code.address) throw new EmsgError("bad_request", "The link bundle is for another address.");
  if (toB64u(ed25519.getPublicKey(fromB64u(bundle.accountKey.priv))) !== bundle.accountKey.pub) {
    throw new EmsgError("bad_request", "The link bundle's account key pair does not match.");
  }
  return bundle;
}
