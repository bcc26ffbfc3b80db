import { sha256 } from "@noble/hashes/sha2.js";
import { toB64u } from "../../shared/base64url.js";
import { CHUNK_BYTES, SEALED_CHUNK_BYTES, chunkNonce, sealAttachment } from "../../shared/attachment-crypto.js";
import { decodeContent } from "../../shared/content.js";
import { countingB64u, countingBytes, errorCodeOf } from "./_fixed-keys.js";

export const name = "attachments";

const KEY = countingBytes(32, 0xa0);
const utf8 = new TextEncoder();

/** Plaintexts: empty, short, exactly one chunk, one byte over, and three chunks with a short last. */
const files: { description: string; size: number }[] = [
  { description: "an empty file: one empty final chunk", size: 0 },
  { description: "5 bytes", size: 5 },
  { description: "exactly one chunk (65536 bytes), which is the final one", size: CHUNK_BYTES },
  { description: "one byte over a chunk: a full chunk, then a final chunk of 1 byte", size: CHUNK_BYTES + 1 },
  { description: "150000 bytes: two full chunks and a final one of 18928", size: 150_000 },
];

/** Byte i of a vector's plaintext is i mod 251 (a prime, so chunks differ from one another). */
function plaintextOf(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => i % 251);
}

async function sealCase({ description, size }: { description: string; size: number }) {
  const plain = plaintextOf(size);
  const { sealed, hash } = await sealAttachment(KEY, plain);
  const chunks = [];
  for (let at = 0, i = 0; at < sealed.length; at += SEALED_CHUNK_BYTES, i++) {
    const chunk = sealed.subarray(at, Math.min(at + SEALED_CHUNK_BYTES, sealed.length));
    const last = at + SEALED_CHUNK_BYTES >= sealed.length;
    chunks.push({ nonce: toB64u(chunkNonce(i, last)), length: chunk.length, tag: toB64u(chunk.subarray(chunk.length - 16)) });
  }
  return {
    description,
    size,
    plaintextSha256: toB64u(sha256(plain)),
    // Small blobs in full; for the larger ones each chunk's nonce and tag and the whole blob's hash.
    ...(sealed.length <= 64 ? { sealed: toB64u(sealed) } : {}),
    sealedLength: sealed.length,
    chunks,
    hash: toB64u(hash),
  };
}

const ID = countingB64u(16);
const BLOB = countingB64u(16, 16);
const AT = 1_760_000_000_000;
const HASH = countingB64u(32, 0x40);
const base = { v: 1, id: ID, sentAt: AT, type: "attachment", blob: BLOB, enc: "aes-256-gcm-64k", key: toB64u(KEY), hash: HASH };

/** Pointers as a receiver decodes them (PROTOCOL §15). */
const pointers: { description: string; json: string }[] = [
  {
    description: "a photo with its size in pixels and a tiny JPEG thumbnail",
    json: JSON.stringify({ ...base, size: 1_234_567, mediaType: "image/jpeg", name: "IMG_0042.jpg", width: 4032, height: 3024, thumb: countingB64u(48), until: AT + 30 * 86_400_000 }),
  },
  { description: "a file", json: JSON.stringify({ ...base, size: 20_971_520, mediaType: "application/pdf", name: "Vertrag – final.pdf" }) },
  { description: "a voice note", json: JSON.stringify({ ...base, size: 48_213, mediaType: "audio/webm", name: "voice.webm", voice: true, durationMs: 6_480 }) },
  { description: "a file of the largest size (100 MiB)", json: JSON.stringify({ ...base, size: 104_857_600, mediaType: "application/octet-stream", name: "big.bin" }) },
  { description: "over 100 MiB", json: JSON.stringify({ ...base, size: 104_857_601, mediaType: "application/octet-stream", name: "big.bin" }) },
  { description: "a name with a path in it", json: JSON.stringify({ ...base, size: 5, mediaType: "text/plain", name: "../../.bashrc" }) },
  { description: "a name with a right-to-left override (hides the real extension)", json: JSON.stringify({ ...base, size: 5, mediaType: "text/plain", name: "photo\u202egpj.exe" }) },
  { description: "a media type with parameters", json: JSON.stringify({ ...base, size: 5, mediaType: "text/plain; charset=utf-8", name: "a.txt" }) },
  { description: "another encryption", json: JSON.stringify({ ...base, enc: "aes-256-cbc", size: 5, mediaType: "text/plain", name: "a.txt" }) },
  { description: "a key of 16 bytes", json: JSON.stringify({ ...base, key: countingB64u(16), size: 5, mediaType: "text/plain", name: "a.txt" }) },
  { description: "a width without a height", json: JSON.stringify({ ...base, size: 5, mediaType: "image/png", name: "a.png", width: 10 }) },
  { description: "a voice note without a duration", json: JSON.stringify({ ...base, size: 5, mediaType: "audio/ogg", name: "v.ogg", voice: true }) },
  { description: "a thumbnail over 6144 bytes", json: JSON.stringify({ ...base, size: 5, mediaType: "image/png", name: "a.png", thumb: countingB64u(6145) }) },
];

export async function make() {
  const sealedFiles = [];
  for (const f of files) sealedFiles.push(await sealCase(f));
  return {
    description:
      "Attachments (PROTOCOL §15). `files`: the plaintext of `size` bytes (byte i is i mod 251) sealed under `key` in 64 KiB " +
      "chunks with AES-256-GCM, chunk i under nonce 0x00*7 || uint32be(i) || (1 if last else 0), no associated data; `hash` is " +
      "SHA-256 of the whole sealed blob. `pointers`: decoding `plaintext` (b64u of UTF-8 JSON) gives `content` when `error` is null, else that code.",
    key: toB64u(KEY),
    files: sealedFiles,
    cases: pointers.map(({ description, json }) => {
      const bytes = utf8.encode(json);
      let content: unknown = null;
      const error = errorCodeOf(() => (content = decodeContent(bytes)));
      return { description, plaintext: toB64u(bytes), content, error };
    }),
  };
}
