import type { KeyPackage } from "ts-mls";
import { verifyKeyPackage } from "ts-mls/keyPackage.js";
import { verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import { decodeUint16, decodeUint64, decodeUint8 } from "ts-mls/codec/number.js";
import { decodeVarLenData, determineLength } from "ts-mls/codec/variableLength.js";
import { contentTypes } from "ts-mls/contentType.js";
import { protocolVersions } from "ts-mls/protocolVersion.js";
import { wireformats } from "ts-mls/wireformat.js";
import { b64uByteLength, fromB64u, toB64u } from "../base64url.js";
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

type Decoder<T> = (b: Uint8Array, offset: number) => [T, number] | undefined;
const decodeLength: Decoder<number> = (b, at) => {
  const { length, lengthFieldSize } = determineLength(b, at);
  return [length, lengthFieldSize];
};

interface Header {
  wireformat: string | undefined;
  groupId: Uint8Array;
  epoch: bigint;
  type: MessageInfo["type"];
  authenticatedData: Uint8Array;
  senderData: Uint8Array;
  /** Where the ciphertext starts, and its length. */
  ciphertextAt: number;
  ciphertext: number;
}

/**
 * ts-mls's decoder of an enum (`decodeWireformat` and the like), with its table's reverse built
 * once: ts-mls's builds it again on every call, ~4% of a hub's CPU for the three a header has.
 * The same answers (an unknown number decodes to nothing); unit test mls-inspect compares them.
 */
export function enumDecoder<K extends string>(table: Record<K, number>, decode: Decoder<number>): Decoder<K> {
  const byNumber = new Map<number, K>(Object.entries(table).map(([key, n]) => [n as number, key as K]));
  return (b, at) => {
    const decoded = decode(b, at);
    const key = decoded && byNumber.get(decoded[0]);
    return key === undefined ? undefined : [key, decoded![1]];
  };
}
const decodeProtocolVersion = enumDecoder(protocolVersions, decodeUint16);
const decodeWireformat = enumDecoder(wireformats, decodeUint16);
const decodeContentType = enumDecoder(contentTypes, decodeUint8);

/** The PrivateMessage header at the start of `head`, or undefined when `head` holds none. */
function readHeader(head: Uint8Array): Header | undefined {
  let at = 0;
  const read = <T>(decode: Decoder<T>): T => {
    const decoded = decode(head, at);
    if (decoded === undefined) throw new RangeError("no header");
    at += decoded[1];
    return decoded[0];
  };
  try {
    // ts-mls knows MLS 1.0 only: another version does not decode.
    read(decodeProtocolVersion);
    const wireformat = read(decodeWireformat);
    if (wireformat !== "mls_private_message") return { wireformat } as Header;
    const groupId = read(decodeVarLenData);
    const epoch = read(decodeUint64);
    const type = read(decodeContentType);
    const authenticatedData = read(decodeVarLenData);
    const senderData = read(decodeVarLenData);
    const ciphertext = read(decodeLength);
    return { wireformat, groupId, epoch, type, authenticatedData, senderData, ciphertextAt: at, ciphertext };
  } catch {
    return undefined;
  }
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
    header = readHeader(fromB64u(mls.length <= chars ? mls : mls.slice(0, chars)));
    if (header !== undefined || mls.length <= chars) break;
  }
  if (header === undefined) throw new EmsgError("bad_request", "Not an MLS private message.");
  if (header.wireformat !== "mls_private_message") throw new EmsgError("bad_request", `Members send PrivateMessages, not ${header.wireformat ?? "this"}.`);
  const { groupId, type, authenticatedData, senderData, ciphertextAt, ciphertext } = header;
  if (authenticatedData.length > 0) throw new EmsgError("bad_request", "EMSG messages carry no authenticated data.");
  if (senderData.length !== SENDER_DATA_BYTES) throw new EmsgError("bad_request", "The message's sender data is not of the suite's size.");
  if (ciphertextAt + ciphertext !== b64uByteLength(mls.length)) throw new EmsgError("bad_request", "The message's ciphertext does not fill it exactly.");
  if (ciphertext < MIN_CIPHERTEXT[type]) throw new EmsgError("bad_request", `The message is too short to be a ${type}.`);
  const epoch = Number(header.epoch);
  if (!Number.isSafeInteger(epoch)) throw new EmsgError("bad_request", "The message's epoch is out of range.");
  return { conversation: utf8.decode(groupId), epoch, type };
}

/** A Welcome's framing: MLS 1.0, suite 84, nothing after it (PROTOCOL §8). Malformed → `bad_request`. */
export function inspectWelcome(welcome: string): void {
  fromWire(welcome, "mls_welcome");
}
