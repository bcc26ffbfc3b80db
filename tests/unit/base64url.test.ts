import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { b64uByteLength, fromB64u, isCanonicalB64u, toB64u } from "../../shared/base64url.js";
import { isB64uOfLength } from "../../shared/ids.js";

/** The straightforward definition the fast decoder must agree with: atob, then re-encode to compare. */
function reference(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return toB64u(out) === text ? out : null;
}

describe("base64url", () => {
  it("round-trips any bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = toB64u(bytes);
      expect(isCanonicalB64u(text)).toBe(true);
      expect(b64uByteLength(text.length)).toBe(bytes.length);
      expect(fromB64u(text)).toEqual(bytes);
    }));
  });

  it("accepts and decodes exactly what the atob reference does, refusing stray low bits", () => {
    const chars = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. ");
    fc.assert(fc.property(fc.array(chars, { maxLength: 40 }).map((a) => a.join("")), (text) => {
      const want = reference(text);
      expect(isCanonicalB64u(text)).toBe(want !== null);
      if (want) expect(fromB64u(text)).toEqual(want);
      else expect(() => fromB64u(text)).toThrow();
    }), { numRuns: 3000 });
    expect(fromB64u("AQ")).toEqual(new Uint8Array([1]));
    expect(() => fromB64u("AR")).toThrow(/Non-canonical/);
    expect(() => fromB64u("AQJ")).toThrow(/Non-canonical/);
    expect(() => fromB64u("A")).toThrow(/Not unpadded/);
  });

  it("checks an id's length without decoding it", () => {
    const id = toB64u(new Uint8Array(16).fill(7));
    expect(isB64uOfLength(id, 16)).toBe(true);
    expect(isB64uOfLength(id, 15)).toBe(false);
    expect(isB64uOfLength(`${id}A`, 16)).toBe(false);
    expect(isB64uOfLength(`${id.slice(0, -1)}B`, 16)).toBe(false);
  });
});
