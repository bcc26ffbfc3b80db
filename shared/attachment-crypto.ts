import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { EmsgError } from "./errors.js";

/**
 * How an attachment's bytes are sealed before they leave the device (PROTOCOL §15): a fresh
 * 32-byte key per attachment, the plaintext cut into 64 KiB chunks, each sealed with AES-256-GCM
 * under a nonce made of its index and a flag for the last chunk (the STREAM construction). A chunk
 * moved, dropped, cut off at the end or changed fails its tag; SHA-256 of the whole sealed blob is
 * in the pointer too, so a receiver can refuse a blob before it decrypts any of it.
 */
export const ATTACHMENT_ENC = "aes-256-gcm-64k";
export const CHUNK_BYTES = 65_536;
export const TAG_BYTES = 16;
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
export const ATTACHMENT_KEY_BYTES = 32;

/** A blob that is not what its pointer promised: never shown, reported as damaged. */
export class DamagedAttachment extends EmsgError {
  constructor(message: string) {
    super("bad_request", `The attachment is damaged: ${message}`);
    this.name = "DamagedAttachment";
  }
}

/** An empty file still has one (empty, final) chunk, so even it carries a tag. */
export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES));
}

/** Bytes of the sealed blob for `size` bytes of plaintext. */
export function sealedSize(size: number): number {
  return size + chunkCount(size) * TAG_BYTES;
}

/** 7 zero bytes, the chunk index as a big-endian uint32, then 1 for the last chunk else 0. */
export function chunkNonce(index: number, last: boolean): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0 || index > 0xffff_ffff) throw new EmsgError("too_large", "An attachment has at most 2^32 chunks.");
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

export function newAttachmentKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ATTACHMENT_KEY_BYTES));
}

/** The platform's AES-GCM (native in browsers, Node and workerd), imported once per attachment. */
export function importAttachmentKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== ATTACHMENT_KEY_BYTES) throw new EmsgError("bad_request", "An attachment key is 32 bytes.");
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function sealChunk(key: CryptoKey, index: number, last: boolean, plain: Uint8Array): Promise<Uint8Array> {
  if (plain.length > CHUNK_BYTES || (!last && plain.length !== CHUNK_BYTES)) throw new EmsgError("bad_request", "Only the last chunk may be short.");
  const iv = chunkNonce(index, last) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain as Uint8Array<ArrayBuffer>));
}

export async function openChunk(key: CryptoKey, index: number, last: boolean, sealed: Uint8Array): Promise<Uint8Array> {
  const iv = chunkNonce(index, last) as Uint8Array<ArrayBuffer>;
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, sealed as Uint8Array<ArrayBuffer>));
  } catch {
    throw new DamagedAttachment(`chunk ${index} does not open under its key.`);
  }
}

/**
 * Seals a file read piece by piece: give it the plaintext in any pieces, in order; it hands back
 * sealed chunks as they fill and keeps the running SHA-256 of everything it handed back.
 */
export class AttachmentSealer {
  readonly size: number;
  #key: Promise<CryptoKey>;
  #hash = sha256.create();
  #pending = new Uint8Array(CHUNK_BYTES);
  #filled = 0;
  #index = 0;
  #taken = 0;

  constructor(rawKey: Uint8Array, size: number) {
    this.size = size;
    this.#key = importAttachmentKey(rawKey);
  }

  /** Sealed chunks completed by `plain`; the chunk that ends the file is sealed only by `finish`. */
  async push(plain: Uint8Array): Promise<Uint8Array[]> {
    if (this.#taken + plain.length > this.size) throw new EmsgError("bad_request", "The file grew while it was being sent.");
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < plain.length) {
      // A full chunk waiting is sealed once more bytes come: only then is it known not to be the last.
      if (this.#filled === CHUNK_BYTES) out.push(await this.#seal(false));
      const n = Math.min(CHUNK_BYTES - this.#filled, plain.length - at);
      this.#pending.set(plain.subarray(at, at + n), this.#filled);
      this.#filled += n;
      this.#taken += n;
      at += n;
    }
    return out;
  }

  async finish(): Promise<{ last: Uint8Array; hash: Uint8Array }> {
    if (this.#taken !== this.size) throw new EmsgError("bad_request", "The file shrank while it was being sent.");
    const last = await this.#seal(true);
    return { last, hash: this.#hash.digest() };
  }

  async #seal(last: boolean): Promise<Uint8Array> {
    const sealed = await sealChunk(await this.#key, this.#index, last, this.#pending.slice(0, this.#filled));
    this.#index++;
    this.#filled = 0;
    this.#hash.update(sealed);
    return sealed;
  }
}

/**
 * Opens a downloaded blob given in any pieces: checks its length against the pointer's `size`,
 * each chunk's tag, and at the end SHA-256 of the whole against the pointer's `hash`. Plaintext is
 * handed back chunk by chunk; a caller shows nothing until `finish` resolves.
 */
export class AttachmentOpener {
  readonly size: number;
  #key: Promise<CryptoKey>;
  #expectHash: Uint8Array;
  #hash = sha256.create();
  #pending = new Uint8Array(SEALED_CHUNK_BYTES);
  #filled = 0;
  #index = 0;
  #received = 0;
  #chunks: number;

  constructor(rawKey: Uint8Array, size: number, hash: Uint8Array) {
    this.size = size;
    this.#key = importAttachmentKey(rawKey);
    this.#expectHash = hash;
    this.#chunks = chunkCount(size);
  }

  async push(sealed: Uint8Array): Promise<Uint8Array[]> {
    this.#received += sealed.length;
    if (this.#received > sealedSize(this.size)) throw new DamagedAttachment("it is longer than its pointer says.");
    this.#hash.update(sealed);
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < sealed.length) {
      if (this.#filled === SEALED_CHUNK_BYTES) {
        if (this.#index >= this.#chunks - 1) throw new DamagedAttachment("it is longer than its pointer says.");
        out.push(await this.#open(false));
      }
      const n = Math.min(SEALED_CHUNK_BYTES - this.#filled, sealed.length - at);
      this.#pending.set(sealed.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
    }
    return out;
  }

  async finish(): Promise<Uint8Array> {
    if (this.#received !== sealedSize(this.size)) throw new DamagedAttachment("it is shorter than its pointer says.");
    const digest = this.#hash.digest();
    if (!equalBytes(digest, this.#expectHash)) throw new DamagedAttachment("its hash is not the one its pointer names.");
    return this.#open(true);
  }

  async #open(last: boolean): Promise<Uint8Array> {
    const plain = await openChunk(await this.#key, this.#index, last, this.#pending.slice(0, this.#filled));
    this.#index++;
    this.#filled = 0;
    return plain;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The whole sealed blob and its hash, for a file held in memory (small files, vectors). */
export async function sealAttachment(rawKey: Uint8Array, plain: Uint8Array): Promise<{ sealed: Uint8Array; hash: Uint8Array }> {
  const sealer = new AttachmentSealer(rawKey, plain.length);
  const chunks = await sealer.push(plain);
  const { last, hash } = await sealer.finish();
  return { sealed: concatBytes(...chunks, last), hash };
}

/** The plaintext of a whole sealed blob; `DamagedAttachment` when it is not what the pointer says. */
export async function openAttachment(rawKey: Uint8Array, size: number, hash: Uint8Array, sealed: Uint8Array): Promise<Uint8Array> {
  const opener = new AttachmentOpener(rawKey, size, hash);
  const chunks = await opener.push(sealed);
  return concatBytes(...chunks, await opener.finish());
}
