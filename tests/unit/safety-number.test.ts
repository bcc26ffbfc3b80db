import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { sha512 } from "@noble/hashes/sha2.js";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { keyPairFromSeed } from "../../shared/identity.js";
import {
  fingerprintDigits,
  parseVerifyQr,
  safetyNumber,
  safetyNumberGroups,
  verifyQrPayload,
} from "../../shared/safety-number.js";

const alice = { address: asAddress("alice#im.alice.test"), accountKey: keyPairFromSeed(new Uint8Array(32).fill(1)).publicKey };
const bob = { address: asAddress("bob#im.bob.test"), accountKey: keyPairFromSeed(new Uint8Array(32).fill(2)).publicKey };

function refusal(fn: () => unknown): EmsgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

/** A second, plainer reading of PROTOCOL §4 to check the implementation against. */
function referenceDigits(address: string, key: Uint8Array): string {
  let h = Uint8Array.from([0, 1, ...key, ...new TextEncoder().encode(address)]);
  for (let i = 0; i < 5200; i++) h = sha512(Uint8Array.from([...h, ...key]));
  let out = "";
  for (let c = 0; c < 6; c++) {
    const big = h.slice(c * 5, c * 5 + 5).reduce((n, b) => (n << 8n) | BigInt(b), 0n);
    out += (big % 100000n).toString().padStart(5, "0");
  }
  return out;
}

describe("safety numbers", () => {
  it("is the same 60 digits on both sides", () => {
    const n = safetyNumber(alice, bob);
    expect(n).toMatch(/^\d{60}$/);
    expect(safetyNumber(bob, alice)).toBe(n);
  });

  it("follows PROTOCOL §4 digit by digit", () => {
    const a = referenceDigits(alice.address, alice.accountKey);
    const b = referenceDigits(bob.address, bob.accountKey);
    expect(fingerprintDigits(alice)).toBe(a);
    expect(safetyNumber(alice, bob)).toBe(a < b ? a + b : b + a);
  });

  it("changes when either key or address changes", () => {
    const n = safetyNumber(alice, bob);
    const mallory = keyPairFromSeed(new Uint8Array(32).fill(3)).publicKey;
    expect(safetyNumber(alice, { ...bob, accountKey: mallory })).not.toBe(n);
    expect(safetyNumber(alice, { ...bob, address: asAddress("bob#im.evil.test") })).not.toBe(n);
  });

  it("is shown as 12 groups of 5", () => {
    const groups = safetyNumberGroups(safetyNumber(alice, bob));
    expect(groups).toHaveLength(12);
    for (const g of groups) expect(g).toMatch(/^\d{5}$/);
    expect(groups.join("")).toBe(safetyNumber(alice, bob));
    expect(refusal(() => safetyNumberGroups("123")).code).toBe("bad_request");
  });
});

describe("verification QR codes", () => {
  it("holds the address and key of the one showing it, and reads back", () => {
    const text = verifyQrPayload(alice.address, alice.accountKey);
    expect(text).toBe(`emsg-verify:1:alice#im.alice.test:${toB64u(alice.accountKey)}`);
    expect(parseVerifyQr(`${text}\n`)).toEqual(alice);
  });

  it.each([
    ["https://example.com", "bad_request"],
    ["emsg-verify:2:alice#im.alice.test:AAAA", "unsupported_version"],
    ["emsg-verify:1:alice#im.alice.test", "bad_request"],
    [`emsg-verify:1:Alice#im.alice.test:${toB64u(new Uint8Array(32))}`, "bad_request"],
    [`emsg-verify:1:alice#im.alice.test:${toB64u(new Uint8Array(31))}`, "bad_request"],
    ["emsg-verify:1:alice#im.alice.test:not+b64", "bad_request"],
    [`emsg-verify:1:alice#im.alice.test:${toB64u(new Uint8Array(32))}:x`, "bad_request"],
  ])("refuses %s", (text, code) => {
    expect(refusal(() => parseVerifyQr(text)).code).toBe(code);
  });

  it("never throws anything but EmsgError on what a camera may read", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `emsg-verify:1:${s}`)), (text) => {
        try {
          parseVerifyQr(text);
        } catch (e) {
          expect(e).toBeInstanceOf(EmsgError);
        }
      }),
    );
  });
});
