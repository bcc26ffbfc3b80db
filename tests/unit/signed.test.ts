import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as v from "valibot";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { jcs } from "../../shared/canonical.js";
import { keyPairFromSeed } from "../../shared/identity.js";
import { SIGN_CONTEXTS, signObject, signedSchema, signingInput, verifyObject } from "../../shared/signed.js";

const alice = keyPairFromSeed(new Uint8Array(32).fill(1));
const mallory = keyPairFromSeed(new Uint8Array(32).fill(2));

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

describe("signed objects", () => {
  it("signs the context line followed by the canonical body", () => {
    const input = new TextDecoder().decode(signingInput("moved", { to: "b#x.y", from: "a#x.y" }));
    expect(input).toBe('EMSG-v1/moved\n{"from":"a#x.y","to":"b#x.y"}');
  });

  it("verifies what was signed, whatever the member order on the wire", () => {
    const signed = signObject(alice.privateKey, "friend-request", { a: 1, b: "two" });
    expect(verifyObject(alice.publicKey, "friend-request", signed)).toBe(true);
    expect(verifyObject(alice.publicKey, "friend-request", { body: { b: "two", a: 1 }, sig: signed.sig })).toBe(true);
  });

  it("refuses another key, another context, or a changed body", () => {
    const signed = signObject(alice.privateKey, "friend-request", { a: 1 });
    expect(verifyObject(mallory.publicKey, "friend-request", signed)).toBe(false);
    expect(verifyObject(alice.publicKey, "friend-response", signed)).toBe(false);
    expect(verifyObject(alice.publicKey, "friend-request", { ...signed, body: { a: 2 } })).toBe(false);
    expect(verifyObject(alice.publicKey, "friend-request", { ...signed, body: { a: 1, extra: true } })).toBe(false);
  });

  it("says false, never throws, on junk", () => {
    const junk: unknown[] = [null, 1, "x", {}, { body: {}, sig: 5 }, { body: {}, sig: "!!" }, { body: NaN, sig: "" }];
    for (const j of junk) expect(verifyObject(alice.publicKey, "deleted", j as never)).toBe(false);
    const signed = signObject(alice.privateKey, "deleted", {});
    expect(verifyObject(alice.publicKey.subarray(0, 31), "deleted", signed)).toBe(false);
    expect(verifyObject(alice.publicKey, "deleted", { ...signed, sig: signed.sig.slice(0, 43) })).toBe(false);
  });

  it("round-trips any JSON body under any context", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SIGN_CONTEXTS), fc.jsonValue(), (context, body) => {
        const wire = JSON.parse(JSON.stringify(signObject(alice.privateKey, context, body)));
        expect(verifyObject(alice.publicKey, context, wire)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("matches RFC 8032 test 1: the seed is the Ed25519 private key", () => {
    const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
    const kp = keyPairFromSeed(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    expect(kp.publicKey).toEqual(hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  });

  it("round-trips under any key", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.jsonValue(), (seed, body) => {
        const kp = keyPairFromSeed(seed);
        expect(verifyObject(kp.publicKey, "moved", signObject(kp.privateKey, "moved", body))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("fails after any single-bit flip of the canonical body that still parses as a different body", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.nat(), (body, n) => {
        const signed = signObject(alice.privateKey, "friend-response", body);
        const bytes = new TextEncoder().encode(jcs(body));
        let changed: unknown;
        try {
          changed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(flipBit(bytes, n % (bytes.length * 8))));
        } catch {
          return; // not JSON any more: nothing a receiver could verify
        }
        // A flip can make a number overflow to Infinity, which has no canonical form (and no valid signature).
        let canonical: string | undefined;
        try {
          canonical = jcs(changed);
        } catch {
          canonical = undefined;
        }
        fc.pre(canonical !== jcs(body));
        expect(verifyObject(alice.publicKey, "friend-response", { body: changed, sig: signed.sig })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("fails after any single-bit flip of the signature", () => {
    const signed = signObject(alice.privateKey, "session-ticket", { exp: 1 });
    const sig = fromB64u(signed.sig);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 511 }), (bit) => {
        expect(verifyObject(alice.publicKey, "session-ticket", { ...signed, sig: toB64u(flipBit(sig, bit)) })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("fails after any single-bit flip of a string in the body", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 40 }), fc.nat(), (text, n) => {
        const signed = signObject(alice.privateKey, "ws-ticket", { text });
        const bytes = new TextEncoder().encode(text);
        const flipped = new TextDecoder().decode(flipBit(bytes, n % (bytes.length * 8)));
        fc.pre(flipped !== text);
        expect(verifyObject(alice.publicKey, "ws-ticket", { ...signed, body: { text: flipped } })).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it("has a schema that keeps unknown body members (they are signed) and checks the sig shape", () => {
    const schema = signedSchema(v.looseObject({ a: v.number() }));
    const signed = signObject(alice.privateKey, "moved", { a: 1, "x-vendor-note": "hi" });
    const parsed = v.parse(schema, signed);
    expect(verifyObject(alice.publicKey, "moved", parsed)).toBe(true);
    expect(v.safeParse(schema, { ...signed, sig: "AAAA" }).success).toBe(false);
    expect(v.safeParse(schema, { sig: signed.sig }).success).toBe(false);
  });
});
