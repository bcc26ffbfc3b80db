import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  AttachmentOpener,
  AttachmentSealer,
  DamagedAttachment,
  SEALED_CHUNK_BYTES,
  openAttachment,
  sealAttachment,
  sealedSize,
} from "../../shared/attachment-crypto.js";

/* A receiver shows an attachment only when every chunk opens and the whole blob is the one its pointer names. */

const key = crypto.getRandomValues(new Uint8Array(32));
const plain = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 7) % 256);

async function refusal(sealed: Uint8Array, hash: Uint8Array, size = plain.length): Promise<string> {
  const error = await openAttachment(key, size, hash, sealed).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DamagedAttachment);
  return (error as Error).message;
}

describe("attachment sealing", { timeout: 30_000 }, () => {
  it("seals the same bytes however the file is read, and opens them however the blob arrives", async () => {
    const whole = await sealAttachment(key, plain);
    expect(whole.sealed.length).toBe(sealedSize(plain.length));
    const sealer = new AttachmentSealer(key, plain.length);
    const parts: Uint8Array[] = [];
    for (let at = 0; at < plain.length; at += 9_999) parts.push(...(await sealer.push(plain.subarray(at, at + 9_999))));
    const { last, hash } = await sealer.finish();
    parts.push(last);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(whole.sealed));
    expect(hash).toEqual(sha256(whole.sealed));
    const opener = new AttachmentOpener(key, plain.length, hash);
    const out: Uint8Array[] = [];
    for (let at = 0; at < whole.sealed.length; at += 777) out.push(...(await opener.push(whole.sealed.subarray(at, at + 777))));
    out.push(await opener.finish());
    expect(Buffer.concat(out)).toEqual(Buffer.from(plain));
  });

  it("refuses a blob cut short, reordered, changed, lengthened or not the one named", async () => {
    const { sealed, hash } = await sealAttachment(key, plain);
    expect(await refusal(sealed.subarray(0, 2 * SEALED_CHUNK_BYTES), hash)).toMatch(/shorter/);
    const swapped = new Uint8Array(sealed);
    swapped.set(sealed.subarray(SEALED_CHUNK_BYTES, 2 * SEALED_CHUNK_BYTES), 0);
    swapped.set(sealed.subarray(0, SEALED_CHUNK_BYTES), SEALED_CHUNK_BYTES);
    expect(await refusal(swapped, sha256(swapped))).toMatch(/chunk 0 does not open/);
    const flipped = new Uint8Array(sealed);
    flipped[100_000] = flipped[100_000]! ^ 1;
    expect(await refusal(flipped, hash)).toMatch(/chunk 1 does not open/);
    expect(await refusal(sealed, sha256(flipped))).toMatch(/hash/);
    const longer = Buffer.concat([sealed, new Uint8Array(1)]);
    expect(await refusal(longer, sha256(longer))).toMatch(/longer/);
    // The first two chunks alone, the second taken for the last: its nonce's final flag differs.
    const firstTwo = sealed.subarray(0, 2 * SEALED_CHUNK_BYTES);
    expect(await refusal(firstTwo, sha256(firstTwo), 2 * 65_536)).toMatch(/chunk 1 does not open/);
    const other = await sealAttachment(crypto.getRandomValues(new Uint8Array(32)), plain);
    expect(await refusal(other.sealed, other.hash)).toMatch(/chunk 0 does not open/);
  });

  it("refuses a file that changes size while it is read", async () => {
    const sealer = new AttachmentSealer(key, 10);
    await expect(sealer.push(new Uint8Array(11))).rejects.toThrow(/grew/);
    const short = new AttachmentSealer(key, 10);
    await short.push(new Uint8Array(9));
    await expect(short.finish()).rejects.toThrow(/shrank/);
  });
});
