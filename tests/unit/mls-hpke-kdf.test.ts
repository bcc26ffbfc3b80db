import fc from "fast-check";
import { HkdfSha512 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { nodeHmacSha512 } from "../../cli/node-ed25519.js";
import { useHostHmacSha512 } from "../../shared/mls/crypto-provider.js";
import { HkdfSha512Here } from "../../shared/mls/x-wing.js";

/*
 * X-Wing's HPKE (every Welcome and commit path secret) takes its HKDF-SHA512 from x-wing.ts instead
 * of @hpke's WebCrypto one. Both answer the same bytes, or refuse the same inputs, for any input.
 */

type Answer = { bytes: string } | { threw: string };

async function answer(run: () => Promise<ArrayBuffer>): Promise<Answer> {
  try {
    const out = await run();
    // @hpke hands ArrayBuffers on, which its callers wrap whole: a view into a larger one would differ.
    if (!(out instanceof ArrayBuffer)) return { threw: "not an ArrayBuffer" };
    return { bytes: Buffer.from(out).toString("hex") };
  } catch (e) {
    return { threw: (e as Error).constructor.name };
  }
}

const buffer = (bytes: Uint8Array) => bytes.slice().buffer;
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map(buffer);
// A salt is empty or HashLen bytes for extract, and any length for HKDF as a whole.
const salt = fc.oneof(fc.constant(new ArrayBuffer(0)), fc.uint8Array({ minLength: 64, maxLength: 64 }).map(buffer), bytes(100));
const length = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(255 * 64, 255 * 64 + 1));

async function compare(here: HkdfSha512Here, theirs: HkdfSha512): Promise<void> {
  await fc.assert(
    fc.asyncProperty(salt, bytes(100), bytes(100), length, async (s, ikm, info, len) => {
      expect(await answer(() => here.extract(s, ikm))).toEqual(await answer(() => theirs.extract(s, ikm)));
      expect(await answer(() => here.expand(ikm, info, len))).toEqual(await answer(() => theirs.expand(ikm, info, len)));
      expect(await answer(() => here.extractAndExpand(s, ikm, info, len))).toEqual(await answer(() => theirs.extractAndExpand(s, ikm, info, len)));
    }),
    { numRuns: 300 },
  );
}

describe("X-Wing HPKE's HKDF-SHA512", () => {
  it("extracts, expands and does both as @hpke's WebCrypto HKDF does, in pure JS", async () => {
    await compare(new HkdfSha512Here(), new HkdfSha512());
  });

  it("and through the host's HMAC", async () => {
    expect(useHostHmacSha512(nodeHmacSha512)).toBe(true);
    await compare(new HkdfSha512Here(), new HkdfSha512());
  });
});
