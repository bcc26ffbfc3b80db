import * as v from "valibot";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { fromB64u, toB64u } from "./base64url.js";
import { jcsBytes } from "./canonical.js";
import { EmsgError } from "./errors.js";
import { isB64uOfLength } from "./ids.js";

/**
 * The passphrase-sealed account export (PROTOCOL §11): scrypt turns the passphrase into a key,
 * XChaCha20-Poly1305 seals the canonical JSON of the contents.
 */

export const ARCHIVE_VERSION = 1;
/** 2^17 × r 8 = 128 MiB; about 0.4 s in Node 20 on one core: costly to guess, bearable on a phone. */
export const DEFAULT_SCRYPT_N = 2 ** 17;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const MIN_SCRYPT_LOG_N = 10;
/** Readers refuse more: a hostile file must not make them allocate more than 256 MiB. */
export const MAX_SCRYPT_LOG_N = 18;

export interface ArchiveFile {
  emsgExport: 1;
  kdf: { alg: "scrypt"; N: number; r: number; p: number; salt: string };
  nonce: string;
  ciphertext: string;
}

const isPowerOfTwoN = (n: number) =>
  Number.isSafeInteger(n) && n >= 2 ** MIN_SCRYPT_LOG_N && n <= 2 ** MAX_SCRYPT_LOG_N && (n & (n - 1)) === 0;

export const ArchiveFileSchema = v.object({
  emsgExport: v.literal(ARCHIVE_VERSION),
  kdf: v.object({
    alg: v.literal("scrypt"),
    N: v.pipe(v.number(), v.check(isPowerOfTwoN, `N must be a power of two from 2^${MIN_SCRYPT_LOG_N} to 2^${MAX_SCRYPT_LOG_N}.`)),
    r: v.literal(SCRYPT_R),
    p: v.literal(SCRYPT_P),
    salt: v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 16), "salt must be 16 bytes of b64u.")),
  }),
  nonce: v.pipe(v.string(), v.check((s) => isB64uOfLength(s, 24), "nonce must be 24 bytes of b64u.")),
  ciphertext: v.pipe(
    v.string(),
    v.minLength(22),
    v.check((s) => {
      try {
        return fromB64u(s).length >= 16;
      } catch {
        return false;
      }
    }, "ciphertext must be b64u of at least 16 bytes."),
  ),
});

export interface ArchiveOptions {
  onProgress?: (fraction: number) => void;
}

async function deriveKey(passphrase: string, kdf: ArchiveFile["kdf"], onProgress?: (f: number) => void): Promise<Uint8Array> {
  // NFKC so the same passphrase typed on another keyboard or OS gives the same key.
  const password = new TextEncoder().encode(passphrase.normalize("NFKC"));
  return scryptAsync(password, fromB64u(kdf.salt), {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    dkLen: 32,
    maxmem: 128 * SCRYPT_R * (2 ** MAX_SCRYPT_LOG_N + SCRYPT_P + 2),
    ...(onProgress ? { onProgress } : {}),
  });
}

export async function sealArchive(
  contents: unknown,
  passphrase: string,
  opts: ArchiveOptions & { N?: number; randomBytes?: (length: number) => Uint8Array } = {},
): Promise<ArchiveFile> {
  const N = opts.N ?? DEFAULT_SCRYPT_N;
  if (!isPowerOfTwoN(N)) throw new EmsgError("bad_request", `scrypt N must be a power of two from 2^${MIN_SCRYPT_LOG_N} to 2^${MAX_SCRYPT_LOG_N}.`);
  if (passphrase.length === 0) throw new EmsgError("bad_request", "Choose a passphrase to protect the export.");
  const random = opts.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const kdf = { alg: "scrypt" as const, N, r: SCRYPT_R, p: SCRYPT_P, salt: toB64u(random(16)) };
  const nonce = random(24);
  const plaintext = jcsBytes(contents);
  const key = await deriveKey(passphrase, kdf, opts.onProgress);
  const ciphertext = xchacha20poly1305(key, nonce).encrypt(plaintext);
  key.fill(0);
  plaintext.fill(0);
  return { emsgExport: ARCHIVE_VERSION, kdf, nonce: toB64u(nonce), ciphertext: toB64u(ciphertext) };
}

/**
 * Opens an archive. A malformed file is `bad_request`; a wrong passphrase (or a changed file,
 * which cannot be told apart) is `unauthorized`.
 */
export async function openArchive(file: unknown, passphrase: string, opts: ArchiveOptions = {}): Promise<unknown> {
  const parsed = v.safeParse(ArchiveFileSchema, file);
  if (!parsed.success) {
    const where = v.getDotPath(parsed.issues[0]);
    throw new EmsgError("bad_request", `This is not an EMSG export${where ? ` (${where})` : ""}: ${parsed.issues[0].message}`);
  }
  const archive = parsed.output;
  const key = await deriveKey(passphrase, archive.kdf, opts.onProgress);
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(key, fromB64u(archive.nonce)).decrypt(fromB64u(archive.ciphertext));
  } catch {
    throw new EmsgError("unauthorized", "Wrong passphrase, or the export file was changed.");
  } finally {
    key.fill(0);
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch {
    throw new EmsgError("bad_request", "The export opened but does not hold JSON.");
  } finally {
    plaintext.fill(0);
  }
}
