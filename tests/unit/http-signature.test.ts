import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { asAddress, asDomain } from "../../shared/address.js";
import { toB64 } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import {
  CLIENT_COMPONENTS,
  FEDERATION_COMPONENTS,
  contentDigest,
  deviceKeyId,
  parseKeyId,
  parseSignature,
  serverKeyId,
  signMessage,
  signatureBaseText,
  signingInput,
  verifyMessage,
  type HttpMessage,
} from "../../shared/http-signature.js";
import { deviceIdOf, keyPairFromSeed } from "../../shared/identity.js";

const device = keyPairFromSeed(new Uint8Array(32).fill(3));
const other = keyPairFromSeed(new Uint8Array(32).fill(4));
const keyId = deviceKeyId(asAddress("alice#im.alice.test"), deviceIdOf(device.publicKey));
const nonce = "AAECAwQFBgcICQoLDA0ODw";
const created = 1_760_000_000;
const body = new TextEncoder().encode('{"upTo":17}');

function signed(msg: HttpMessage, components: readonly string[] = CLIENT_COMPONENTS): HttpMessage {
  const headers = signMessage(msg, { keyId, privateKey: device.privateKey, created, nonce, components });
  return { ...msg, headers: { ...msg.headers, ...headers } };
}

const post: HttpMessage = {
  method: "POST",
  url: "http://127.0.0.1:8787/emsg/v1/mailbox/ack",
  headers: { "emsg-to": "im.alice.test", "content-type": "application/json" },
  body,
};
const get: HttpMessage = { method: "GET", url: "/emsg/v1/mailbox?after=3&limit=50", headers: { "emsg-to": "im.alice.test" } };

function refusal(fn: () => unknown): EmsgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

function verify(msg: HttpMessage, extra: Partial<Parameters<typeof verifyMessage>[3]> = {}, key = device.publicKey) {
  verifyMessage(msg, parseSignature(msg), key, { now: created, requiredComponents: CLIENT_COMPONENTS, ...extra });
}

describe("HTTP message signatures", () => {
  it("signs and checks the same with a body hash the caller computed (natively, on the server)", () => {
    const opts = { keyId, created, nonce, components: CLIENT_COMPONENTS };
    const given = signingInput(post, { ...opts, bodyHash: sha256(body) });
    const computed = signingInput(post, opts);
    expect(given.base).toEqual(computed.base);
    const msg = signed(post);
    verify(msg, { bodyHash: sha256(body) });
    expect(refusal(() => verify(msg, { bodyHash: sha256(new TextEncoder().encode("other")) })).code).toBe("unauthorized");
  });

  it("computes an RFC 9530 Content-Digest", () => {
    expect(contentDigest(new Uint8Array())).toBe("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
    expect(contentDigest(body)).toBe(`sha-256=:${toB64(sha256(body))}:`);
  });

  it("writes Signature-Input as an RFC 8941 inner list with created, nonce, keyid, alg", () => {
    const h = signMessage(post, { keyId, privateKey: device.privateKey, created, nonce, components: CLIENT_COMPONENTS });
    expect(h["signature-input"]).toBe(
      `emsg=("@method" "@path" "@query" "content-digest" "emsg-to");created=${created};nonce="${nonce}";keyid="${keyId}";alg="ed25519"`,
    );
    expect(h.signature).toMatch(/^emsg=:[A-Za-z0-9+/]{86}==:$/);
    expect(h["content-digest"]).toBe(contentDigest(body));
  });

  it("leaves content-digest out when there is no body", () => {
    const h = signMessage(get, { keyId, privateKey: device.privateKey, created, nonce, components: CLIENT_COMPONENTS });
    expect(h["content-digest"]).toBeUndefined();
    expect(h["signature-input"]).toMatch(/^emsg=\("@method" "@path" "@query" "emsg-to"\);/);
  });

  it("builds the signature base from @method, @path, @query ('?' when empty) and the headers", () => {
    const msg = signed({ ...post, url: "http://127.0.0.1:8787/emsg/v1/mailbox/ack" });
    expect(signatureBaseText(msg, parseSignature(msg))).toBe(
      [
        '"@method": POST',
        '"@path": /emsg/v1/mailbox/ack',
        '"@query": ?',
        `"content-digest": ${contentDigest(body)}`,
        '"emsg-to": im.alice.test',
        `"@signature-params": ("@method" "@path" "@query" "content-digest" "emsg-to");created=${created};nonce="${nonce}";keyid="${keyId}";alg="ed25519"`,
      ].join("\n"),
    );
    const g = signed(get);
    expect(signatureBaseText(g, parseSignature(g))).toContain('"@query": ?after=3&limit=50\n');
  });

  it("accepts its own signatures, with and without a body, for clients and servers", () => {
    verify(signed(post));
    verify(signed(get));
    const fed = signed({ ...post, headers: { ...post.headers, "emsg-from": "im.bob.test" } }, FEDERATION_COMPONENTS);
    verify(fed, { requiredComponents: FEDERATION_COMPONENTS, expectHeaders: { "emsg-to": "im.alice.test" } });
  });

  it("parses what it signed", () => {
    const p = parseSignature(signed(post));
    expect(p).toMatchObject({ keyId, created, nonce, alg: "ed25519", components: [...CLIENT_COMPONENTS] });
  });

  it.each([
    ["another body", { body: new TextEncoder().encode('{"upTo":18}') }],
    ["another path", { url: "http://127.0.0.1:8787/emsg/v1/mailbox/ackx" }],
    ["another query", { url: "http://127.0.0.1:8787/emsg/v1/mailbox/ack?x=1" }],
    ["another method", { method: "PUT" }],
  ])("refuses a request changed after signing: %s", (_name, change) => {
    const msg = { ...signed(post), ...change };
    expect(refusal(() => verify(msg)).code).toBe("unauthorized");
  });

  it("refuses a request re-addressed to another server", () => {
    const msg = signed(post);
    const moved = { ...msg, headers: { ...msg.headers, "emsg-to": "im.bob.test" } };
    expect(refusal(() => verify(moved)).message).toMatch(/does not verify/);
    expect(refusal(() => verify(msg, { expectHeaders: { "emsg-to": "im.bob.test" } })).message).toMatch(/expected "im.bob.test"/);
  });

  it("refuses a signature by another key", () => {
    expect(refusal(() => verify(signed(post), {}, other.publicKey)).message).toMatch(/does not verify/);
  });

  it("refuses a signature older or newer than the window", () => {
    const msg = signed(post);
    verify(msg, { now: created + 300 });
    verify(msg, { now: created - 300 });
    expect(refusal(() => verify(msg, { now: created + 301 })).message).toMatch(/300 s/);
    expect(refusal(() => verify(msg, { now: created - 301 })).code).toBe("unauthorized");
    expect(refusal(() => verify(msg, { now: created + 31, windowSeconds: 30 })).code).toBe("unauthorized");
  });

  it("refuses a replayed nonce", () => {
    const seen = new Set<string>();
    const check = (k: string, n: string) => seen.has(`${k} ${n}`);
    const msg = signed(post);
    verify(msg, { seen: check });
    seen.add(`${keyId} ${nonce}`);
    expect(refusal(() => verify(msg, { seen: check })).message).toMatch(/already used/);
  });

  it("refuses a signature that leaves out a required component", () => {
    const msg = signed(post, ["@method", "@path", "@query", "content-digest"]);
    expect(refusal(() => verify(msg)).message).toMatch(/does not cover "emsg-to"/);
    const noDigest = signed(get);
    const withBody = { ...noDigest, body };
    expect(refusal(() => verify(withBody)).message).toMatch(/content-digest/);
  });

  it("refuses a body that does not match the digest, and a malformed digest as bad_request", () => {
    const msg = signed(post);
    const swapped = { ...msg, headers: { ...msg.headers, "content-digest": contentDigest(new Uint8Array([1])) } };
    expect(refusal(() => verify(swapped)).message).toMatch(/Content-Digest/);
    const junk = { ...msg, headers: { ...msg.headers, "content-digest": "sha-256=abc" } };
    expect(refusal(() => verify(junk)).code).toBe("bad_request");
  });

  it.each([
    ["no Signature-Input", { "signature-input": undefined }, /Signature-Input|signature-input/],
    ["no Signature", { signature: undefined }, /signature header is missing/],
    ["a broken dictionary", { "signature-input": 'emsg=("@method"' }, /structured dictionary/],
    ["another label", { "signature-input": 'sig1=("@method");created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519"' }, /no "emsg"/],
    ["a token component", { "signature-input": 'emsg=(method);created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519"' }, /quoted strings/],
    ["an extra parameter", { "signature-input": 'emsg=("@method");created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519";expires=5' }, /expires/],
    ["no nonce", { "signature-input": 'emsg=("@method");created=1;keyid="k";alg="ed25519"' }, /nonce/],
    ["another alg", { "signature-input": 'emsg=("@method");created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="rsa-pss-sha512"' }, /alg/],
    ["a negative created", { "signature-input": 'emsg=("@method");created=-1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519"' }, /created/],
    ["a short signature", { signature: "emsg=:AAAA:" }, /64 bytes/],
    ["a string signature", { signature: 'emsg="x"' }, /byte sequence/],
    ["a repeated component", { "signature-input": 'emsg=("@method" "@method");created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519"' }, /twice/],
    ["an unknown derived component", { "signature-input": 'emsg=("@authority");created=1;nonce="AAECAwQFBgcICQoLDA0ODw";keyid="k";alg="ed25519"' }, /supported/],
  ])("refuses a header with %s", (_name, change, message) => {
    const headers: Record<string, string> = { ...signed(post).headers };
    for (const [k, val] of Object.entries(change)) {
      if (val === undefined) delete headers[k];
      else headers[k] = val;
    }
    const e = refusal(() => parseSignature({ ...post, headers }));
    expect(e.code).toBe("unauthorized");
    expect(e.message).toMatch(message);
  });

  it("refuses a covered header with a line break", () => {
    const msg = signed(post);
    const forged = { ...msg, headers: { ...msg.headers, "emsg-to": 'im.alice.test\n"@path": /x' } };
    expect(refusal(() => verify(forged)).message).toMatch(/line break/);
  });

  it("never throws anything but EmsgError on arbitrary headers", () => {
    const sfish = fc.stringMatching(/^[a-z0-9="();:,* .@\-+/_]{0,80}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), sfish), fc.oneof(fc.string(), sfish), (input, sig) => {
        try {
          const msg = { ...post, headers: { "signature-input": input, signature: sig } };
          verifyMessage(msg, parseSignature(msg), device.publicKey, { now: created, requiredComponents: [] });
        } catch (e) {
          expect(e).toBeInstanceOf(EmsgError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips any path, query and body", () => {
    fc.assert(
      fc.property(
        fc.webPath(),
        fc.option(fc.webQueryParameters(), { nil: undefined }),
        fc.uint8Array({ maxLength: 64 }),
        (path, query, bytes) => {
          const url = `https://im.alice.test${path.startsWith("/") ? path : `/${path}`}${query === undefined ? "" : `?${query}`}`;
          verify(signed({ ...post, url, body: bytes }));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("reads and refuses key ids", () => {
    expect(parseKeyId(keyId)).toEqual({ kind: "device", address: "alice#im.alice.test", deviceId: deviceIdOf(device.publicKey) });
    expect(parseKeyId(serverKeyId(asDomain("im.bob.test"), "AAECAwQFBgc"))).toEqual({
      kind: "server",
      domain: "im.bob.test",
      kid: "AAECAwQFBgc",
    });
    for (const bad of ["", "device:Alice#im.a.test/AAECAwQFBgcICQoLDA0ODw", "server:im.b.test/short", "user:x/y"]) {
      expect(refusal(() => parseKeyId(bad)).code).toBe("unauthorized");
    }
  });
});
