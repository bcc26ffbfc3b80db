import type { KeyPackage } from "ts-mls";
import { verifyKeyPackage } from "ts-mls/keyPackage.js";
import { verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import { b64uByteLength, toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import type { DeviceCertBody } from "../identity.js";
import { certOfLeaf } from "./credential.js";
import { keyPackageRefOf, parseKeyPackage } from "./keypackage.js";
import { cipherSuite } from "./suite.js";
import { fromWire } from "./wire.js";

export interface InspectedKeyPackage {
  /** b64u KeyPackageRef: what a server tells KeyPackages apart by. */
  ref: string;
  device: DeviceCertBody;
  /** The lifetime, in ms. */
  notBefore: number;
  notAfter: number;
}

/** Seconds of a lifetime as ms, the far future capped to the largest safe integer. */
const LIFETIME_SECONDS_MAX = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000));
const ms = (seconds: bigint) => (seconds > LIFETIME_SECONDS_MAX ? Number.MAX_SAFE_INTEGER : Number(seconds) * 1000);

/**
 * Device certificates already verified for a leaf key: a device uploads up to 50 KeyPackages at
 * once, all with the same certificate, and verifying one in pure JavaScript costs milliseconds.
 */
const verifiedCerts = new Map<string, DeviceCertBody>();
const VERIFIED_CERTS_MAX = 1024;

function certOf(leaf: KeyPackage["leafNode"]): DeviceCertBody {
  const { credential } = leaf;
  const key = credential.credentialType === "basic" ? `${toB64u(leaf.signaturePublicKey)}:${toB64u(credential.identity)}` : "";
  const known = verifiedCerts.get(key);
  if (known) return known;
  const { body } = certOfLeaf(leaf.credential, leaf.signaturePublicKey);
  if (verifiedCerts.size >= VERIFIED_CERTS_MAX) verifiedCerts.clear();
  verifiedCerts.set(key, body);
  return body;
}

/**
 * What a server checks before storing or handing out a KeyPackage: MLS 1.0 in suite 84, both its
 * signatures verify, and its credential is a valid device certificate for the leaf key. The caller
 * compares `device` with the uploading device and the lifetime with its clock. Failures:
 * `bad_request` (malformed) or `unauthorized` (does not verify).
 */
export async function inspectKeyPackage(text: string): Promise<InspectedKeyPackage> {
  const keyPackage = parseKeyPackage(text);
  const cs = await cipherSuite();
  const leaf = keyPackage.leafNode;
  if (!(await verifyKeyPackage(keyPackage, cs.signature)) || !(await verifyLeafNodeSignatureKeyPackage(leaf, cs.signature))) {
    throw new EmsgError("unauthorized", "The KeyPackage's signature does not verify.");
  }
  if (toB64u(keyPackage.initKey) === toB64u(leaf.hpkePublicKey)) throw new EmsgError("bad_request", "The KeyPackage reuses its init key as leaf key.");
  const device = certOf(leaf);
  return { ref: await keyPackageRefOf(keyPackage, cs), device, notBefore: ms(leaf.lifetime.notBefore), notAfter: ms(leaf.lifetime.notAfter) };
}

export interface MessageInfo {
  conversation: string;
  epoch: number;
  type: "application" | "commit" | "proposal";
}

const utf8 = new TextDecoder();

/**
 * Characters of b64u decoded for a header: first the usual header's (96 bytes, a conversation ref of
 * up to ~50 characters), then enough for a group id of any ref. Decoding the whole message would
 * cost more than everything else the hub does with it.
 */
const HEAD_CHARS = [128, 1368];
/** An encrypted SenderData: leaf index, generation and reuse guard (12 bytes), and the 16-byte AEAD tag. */
const SENDER_DATA_BYTES = 28;
/**
 * Fewest ciphertext bytes a member's message of each content type takes in suite 84: the content
 * (empty application data; the smallest proposal; a commit with no proposals and no path), the
 * Ed25519 signature<V> (65), a commit's SHA-512 confirmation tag<V> (65), and the AEAD tag (16).
 */
const MIN_CIPHERTEXT: Record<MessageInfo["type"], number> = { application: 1 + 65 + 16, proposal: 3 + 65 + 16, commit: 2 + 65 + 65 + 16 };

/** Wire format names by number (RFC 9420 §6): a header of another wire format is refused by name. */
const WIREFORMATS = new Map<number, string>([[1, "mls_public_message"], [2, "mls_private_message"], [3, "mls_welcome"], [4, "mls_group_info"], [5, "mls_key_package"]]);
const CONTENT_TYPES: (MessageInfo["type"] | undefined)[] = [undefined, "application", "proposal", "commit"];
const MLS10 = 1;
const PRIVATE_MESSAGE = 2;

interface Header {
  wireformat: string;
  /** Where the group id starts and ends. */
  groupAt: number;
  groupEnd: number;
  epoch: number;
  type: MessageInfo["type"];
  authenticatedData: number;
  senderData: number;
  /** Where the ciphertext starts, and its length. */
  ciphertextAt: number;
  ciphertext: number;
}

/** The size of the variable-length integer (RFC 9420 §2.1.2) at `at` of `b`, set by lengthAt. */
let lengthBytes = 0;

/** The variable-length integer at `at` of the first `n` bytes of `b`, or -1 when they end first or it takes 8 bytes (which ts-mls does not read). */
function lengthAt(b: Uint8Array, n: number, at: number): number {
  if (at >= n) return -1;
  const first = b[at]!;
  switch (first >> 6) {
    case 0:
      lengthBytes = 1;
      return first & 0x3f;
    case 1:
      lengthBytes = 2;
      return at + 2 > n ? -1 : ((first & 0x3f) << 8) | b[at + 1]!;
    case 2:
      lengthBytes = 4;
      return at + 4 > n ? -1 : ((first & 0x3f) << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    default:
      return -1;
  }
}

/**
 * The PrivateMessage header at the start of the first `n` bytes of `b` (RFC 9420 §6.3), or undefined
 * when they hold none; a header of another wire format has that name only. Read byte by byte, as
 * ts-mls's decoders read it (unit test mls-inspect holds the two equal), without their tuples,
 * views and BigInt.
 */
function readHeader(b: Uint8Array, n: number): Header | undefined {
  if (n < 4 || ((b[0]! << 8) | b[1]!) !== MLS10) return undefined;
  const format = (b[2]! << 8) | b[3]!;
  const wireformat = WIREFORMATS.get(format);
  if (wireformat === undefined) return undefined;
  if (format !== PRIVATE_MESSAGE) return { wireformat } as Header;
  const group = lengthAt(b, n, 4);
  const groupAt = 4 + lengthBytes;
  const groupEnd = groupAt + group;
  if (group < 0 || groupEnd + 9 > n) return undefined;
  const epoch = (b[groupEnd]! * 0x1000000 + ((b[groupEnd + 1]! << 16) | (b[groupEnd + 2]! << 8) | b[groupEnd + 3]!)) * 0x100000000 +
    (b[groupEnd + 4]! * 0x1000000 + ((b[groupEnd + 5]! << 16) | (b[groupEnd + 6]! << 8) | b[groupEnd + 7]!));
  const type = CONTENT_TYPES[b[groupEnd + 8]!];
  if (type === undefined) return undefined;
  let at = groupEnd + 9;
  const authenticatedData = lengthAt(b, n, at);
  at += lengthBytes + authenticatedData;
  if (authenticatedData < 0 || at > n) return undefined;
  const senderData = lengthAt(b, n, at);
  at += lengthBytes + senderData;
  if (senderData < 0 || at > n) return undefined;
  const ciphertext = lengthAt(b, n, at);
  if (ciphertext < 0) return undefined;
  at += lengthBytes;
  return { wireformat, groupAt, groupEnd, epoch, type, authenticatedData, senderData, ciphertextAt: at, ciphertext };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64U_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) B64U_VALUE[ALPHABET.charCodeAt(i)] = i;
/** The decoded head of the message inspected last: the most HEAD_CHARS decode to. */
const head = new Uint8Array(b64uByteLength(HEAD_CHARS[HEAD_CHARS.length - 1]!));

/**
 * Decodes the first `chars` characters of `mls` into `head`; the number of bytes. Refuses them as
 * fromB64u refuses them as a text of their own (a character outside base64url; stray low bits in
 * the last character of a whole message), without the copy, the regular expression and the array.
 */
function decodeHead(mls: string, chars: number): number {
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < chars; i++) {
    const c = mls.charCodeAt(i);
    const value = c < 128 ? B64U_VALUE[c]! : -1;
    if (value < 0) throw new EmsgError("bad_request", "Not unpadded base64url.");
    acc = ((acc << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      head[at++] = (acc >> bits) & 0xff;
    }
  }
  if (chars === mls.length && (acc & ((1 << bits) - 1)) !== 0) throw new EmsgError("bad_request", "Non-canonical base64url.");
  return at;
}

/**
 * The cleartext header of a member's message: what the hub orders and checks epochs by (PROTOCOL
 * §6, §8). Reads only the header, so its cost does not grow with the message: MLS 1.0, a
 * PrivateMessage, no authenticated data (EMSG sends none), a SenderData of the suite's size, and a
 * ciphertext that fills the rest exactly and is not too short for its content type. Anything else
 * → `bad_request`. Only the header's characters are decoded and checked as base64url: the wire
 * schemas check the whole text (b64uSchema), and doing it again would cost as much as the rest.
 */
export function inspectMessage(mls: string): MessageInfo {
  if (mls.length % 4 === 1) throw new EmsgError("bad_request", "An MLS message is unpadded base64url.");
  let header: Header | undefined;
  for (const chars of HEAD_CHARS) {
    header = readHeader(head, decodeHead(mls, Math.min(chars, mls.length)));
    if (header !== undefined || mls.length <= chars) break;
  }
  if (header === undefined) throw new EmsgError("bad_request", "Not an MLS private message.");
  if (header.wireformat !== "mls_private_message") throw new EmsgError("bad_request", `Members send PrivateMessages, not ${header.wireformat}.`);
  const { type, authenticatedData, senderData, ciphertextAt, ciphertext, epoch } = header;
  if (authenticatedData > 0) throw new EmsgError("bad_request", "EMSG messages carry no authenticated data.");
  if (senderData !== SENDER_DATA_BYTES) throw new EmsgError("bad_request", "The message's sender data is not of the suite's size.");
  if (ciphertextAt + ciphertext !== b64uByteLength(mls.length)) throw new EmsgError("bad_request", "The message's ciphertext does not fill it exactly.");
  if (ciphertext < MIN_CIPHERTEXT[type]) throw new EmsgError("bad_request", `The message is too short to be a ${type}.`);
  if (!Number.isSafeInteger(epoch)) throw new EmsgError("bad_request", "The message's epoch is out of range.");
  return { conversation: utf8.decode(head.subarray(header.groupAt, header.groupEnd)), epoch, type };
}

/** A Welcome's framing: MLS 1.0, suite 84, nothing after it (PROTOCOL §8). Malformed → `bad_request`. */
export function inspectWelcome(welcome: string): void {
  fromWire(welcome, "mls_welcome");
}
