import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toB64u } from "../../shared/base64url.js";

/** Node's own encoder is the reference the table encoder must match character for character. */
const reference = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");

describe("toB64u", () => {
  it("writes what Node's base64url writes, for every length 0..300", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (bytes) => {
      expect(toB64u(bytes)).toBe(reference(bytes));
    }), { numRuns: 3000 });
    for (let n = 0; n <= 300; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(toB64u(bytes)).toBe(reference(bytes));
    }
    expect(toB64u(new Uint8Array(18).fill(0xff))).toBe("________________________");
  });

  it("reads only a view's own bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(16), fc.nat(16), (bytes, head, cut) => {
      const view = bytes.subarray(Math.min(head, bytes.length), Math.max(Math.min(head, bytes.length), bytes.length - cut));
      expect(toB64u(view)).toBe(reference(view));
    }));
  });

  it("encodes long inputs, which it writes in several pieces, whole", () => {
    for (const n of [6143, 6144, 6145, 6146, 12288, 12289, 100_001]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 131 + (i >> 7)) & 0xff);
      expect(toB64u(bytes)).toBe(reference(bytes));
    }
  });
});
