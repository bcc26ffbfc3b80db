import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type Domain, asDomain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import {
  CAPABILITIES,
  DEFAULT_LIMITS,
  apiBaseOf,
  buildDiscoveryDoc,
  originFor,
  parseDiscoveryDoc,
  parseResolverMap,
  serverKey,
} from "../../shared/discovery.js";
import { EmsgError } from "../../shared/errors.js";
import { keyIdOf, keyPairFromSeed } from "../../shared/identity.js";

const domain = asDomain("im.alice.test");
const server = keyPairFromSeed(new Uint8Array(32).fill(9));
const kid = keyIdOf(server.publicKey);
const doc = buildDiscoveryDoc({ domain, keys: [{ kid, key: server.publicKey }], software: "emsg-worker/0.1.0" });

function refusal(fn: () => unknown): EmsgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

describe("discovery documents", () => {
  it("builds the document PROTOCOL §3 shows", () => {
    expect(doc).toEqual({
      emsg: 1,
      domain: "im.alice.test",
      api: "/emsg/v1",
      keys: [{ kid, alg: "ed25519", key: toB64u(server.publicKey) }],
      limits: DEFAULT_LIMITS,
      capabilities: [...CAPABILITIES],
      software: "emsg-worker/0.1.0",
    });
  });

  it("reads back what it built, after a trip through JSON", () => {
    const parsed = parseDiscoveryDoc(JSON.parse(JSON.stringify(doc)), domain);
    expect(parsed).toEqual(doc);
    expect(serverKey(parsed, kid)).toEqual(server.publicKey);
    expect(serverKey(parsed, "AAAAAAAAAAA")).toBeUndefined();
  });

  it("fills limits a peer leaves out with the defaults, keeps extensions, drops keys of unknown alg", () => {
    const parsed = parseDiscoveryDoc(
      {
        ...doc,
        limits: { maxBatchItems: 50 },
        "x-acme-region": "eu",
        keys: [...doc.keys, { kid: "pq", alg: "x-acme-mldsa", key: "AAAA" }],
      },
      domain,
    );
    expect(parsed.limits).toEqual({ ...DEFAULT_LIMITS, maxBatchItems: 50 });
    expect(parsed["x-acme-region"]).toBe("eu");
    expect(parsed.keys).toHaveLength(1);
  });

  it.each([
    ["not an object", "hello", "bad_request"],
    ["no keys member", { ...doc, keys: undefined }, "bad_request"],
    ["no Ed25519 key", { ...doc, keys: [] }, "bad_request"],
    ["a key whose kid is wrong", { ...doc, keys: [{ ...doc.keys[0], kid: "AAAAAAAAAAA" }] }, "bad_request"],
    ["a key of 31 bytes", { ...doc, keys: [{ ...doc.keys[0], key: toB64u(new Uint8Array(31)) }] }, "bad_request"],
    ["a relative api without /", { ...doc, api: "emsg/v1" }, "bad_request"],
    ["an http api", { ...doc, api: "http://evil.test/emsg" }, "bad_request"],
    ["a zero limit", { ...doc, limits: { maxBodyBytes: 0 } }, "bad_request"],
    ["another version", { ...doc, emsg: 2 }, "unsupported_version"],
    ["another domain", { ...doc, domain: "im.bob.test" }, "unauthorized"],
  ])("refuses a document with %s", (_name, json, code) => {
    expect(refusal(() => parseDiscoveryDoc(json, domain)).code).toBe(code);
  });

  it("resolves the API base against the origin", () => {
    expect(apiBaseOf(doc, "http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787/emsg/v1");
    expect(apiBaseOf({ ...doc, api: "/emsg/v1/" }, "https://im.alice.test")).toBe("https://im.alice.test/emsg/v1");
    expect(apiBaseOf({ ...doc, api: "https://api.alice.test/v1" }, "https://im.alice.test")).toBe("https://api.alice.test/v1");
  });
});

describe("resolver map", () => {
  it("points test domains at loopback origins, and everything else at https://DOMAIN", () => {
    const map = parseResolverMap(" im.alice.test=http://127.0.0.1:8787 , IM.Bob.test=http://localhost:8788/,");
    expect([...map]).toEqual([
      ["im.alice.test", "http://127.0.0.1:8787"],
      ["im.bob.test", "http://localhost:8788"],
    ]);
    expect(originFor("im.alice.test" as Domain, map)).toBe("http://127.0.0.1:8787");
    expect(originFor("im.carol.test" as Domain, map)).toBe("https://im.carol.test");
    expect(parseResolverMap(undefined).size).toBe(0);
    expect(parseResolverMap("").size).toBe(0);
  });

  it.each([
    ["im.a.test"],
    ["im.a.test=127.0.0.1:8787"],
    ["im.a.test=ftp://127.0.0.1"],
    ["im.a.test=http://127.0.0.1:8787/emsg"],
    ["im.a.test=http://127.0.0.1:8787?x"],
    ["im.a.test=http://u:p@127.0.0.1:8787"],
    ["im.a.test=http://127.0.0.1:1,im.a.test=http://127.0.0.1:2"],
    ["localhost=http://127.0.0.1:1"],
  ])("refuses %s", (text) => {
    expect(refusal(() => parseResolverMap(text)).code).toBe("bad_request");
  });

  it("never throws anything but EmsgError on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseResolverMap(text);
        } catch (e) {
          expect(e).toBeInstanceOf(EmsgError);
        }
      }),
    );
  });
});
