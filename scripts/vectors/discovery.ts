import { asDomain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { buildDiscoveryDoc, parseDiscoveryDoc, parseResolverMap } from "../../shared/discovery.js";
import { keyIdOf } from "../../shared/identity.js";
import { errorCodeOf, fixedKeyPair } from "./_fixed-keys.js";

export const name = "discovery";

const domain = asDomain("im.alice.test");
const key = fixedKeyPair("im.alice.test-server").publicKey;
const old = fixedKeyPair("im.alice.test-server-2025").publicKey;

export async function make() {
  const doc = buildDiscoveryDoc({
    domain,
    keys: [
      { kid: keyIdOf(key), key },
      { kid: keyIdOf(old), key: old },
    ],
    software: "emsg-worker/0.1.0",
  });
  const k0 = doc.keys[0]!;
  const inputs: { description: string; json: unknown }[] = [
    { description: "a complete document with a current and a previous key", json: doc },
    { description: "limits partly given: the rest take their defaults", json: { ...doc, limits: { maxBatchItems: 100 } } },
    { description: "no limits at all", json: { ...doc, limits: undefined } },
    { description: "an extension member, an extra capability and a key of unknown alg (ignored)", json: { ...doc, "x-acme-region": "eu", capabilities: [...doc.capabilities, "x-acme-bots"], keys: [...doc.keys, { kid: "x", alg: "x-acme-pq", key: "AAAA" }] } },
    { description: "api as an absolute https URL", json: { ...doc, api: "https://api.alice.test/emsg/v1" } },
    { description: "another protocol version", json: { ...doc, emsg: 2 } },
    { description: "a document for another domain", json: { ...doc, domain: "im.bob.test" } },
    { description: "no Ed25519 key", json: { ...doc, keys: [] } },
    { description: "a kid that does not match its key", json: { ...doc, keys: [{ ...k0, kid: keyIdOf(old) }] } },
    { description: "a key of 31 bytes", json: { ...doc, keys: [{ ...k0, key: toB64u(new Uint8Array(31)) }] } },
    { description: "api neither a path nor https", json: { ...doc, api: "http://api.alice.test/" } },
    { description: "a negative limit", json: { ...doc, limits: { maxBodyBytes: -1 } } },
    { description: "capabilities not a list", json: { ...doc, capabilities: "mailbox" } },
    { description: "not an object", json: [doc] },
  ];
  return {
    description:
      "Discovery documents (PROTOCOL §3) as served at https://DOMAIN/.well-known/emsg for `domain`. A reader " +
      "either accepts `json`, giving `parsed` (limits filled with defaults, keys of unknown alg dropped, " +
      "unknown members kept), or refuses it with `error`. Also: resolver-map texts (EMSG_RESOLVE) with the " +
      "map they give (`origins`) or their `error`.",
    cases: [
      ...inputs.map(({ description, json }) => {
        const error = errorCodeOf(() => parseDiscoveryDoc(json, domain));
        const base = { description, kind: "document" as const, domain, json: json as unknown };
        return error ? { ...base, error } : { ...base, parsed: parseDiscoveryDoc(json, domain) };
      }),
      ...resolverCases(),
    ],
  };
}

function resolverCases() {
  const texts = [
    "im.alice.test=http://127.0.0.1:8787,im.bob.test=http://127.0.0.1:8788",
    " IM.Alice.test = http://localhost:8787/ , ",
    "",
    "im.alice.test=http://127.0.0.1:8787/emsg",
    "im.alice.test=ftp://127.0.0.1",
    "im.alice.test",
    "im.alice.test=http://127.0.0.1:1,im.alice.test=http://127.0.0.1:2",
    // Names are read as §2 hosts: normalized (case, one trailing dot, IDNA), and refused when invalid.
    "im.b\u00fccher.test.=http://127.0.0.1:8789",
    "IM.alice.test=http://127.0.0.1:1,im.alice.test.=http://127.0.0.1:2",
    "localhost=http://127.0.0.1:8787",
    "im_alice.test=http://127.0.0.1:8787",
    "127.0.0.1=http://127.0.0.1:8787",
  ];
  return texts.map((text) => {
    const error = errorCodeOf(() => parseResolverMap(text));
    const base = { description: `resolver map ${JSON.stringify(text)}`, kind: "resolver" as const, text };
    return error ? { ...base, error } : { ...base, origins: Object.fromEntries(parseResolverMap(text)) };
  });
}
