import { asAddress, asDomain } from "../../shared/address.js";
import { deviceIdOf, keyIdOf } from "../../shared/identity.js";
import {
  CLIENT_COMPONENTS,
  FEDERATION_COMPONENTS,
  type HttpMessage,
  contentDigest,
  deviceKeyId,
  parseSignature,
  serverKeyId,
  signMessage,
  signatureBaseText,
} from "../../shared/http-signature.js";
import { countingB64u, fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "http-signatures";

const device = fixedKeyPair("alice-laptop");
const server = fixedKeyPair("im.bob.test-server");
const stranger = fixedKeyPair("mallory-laptop");
const deviceKid = deviceKeyId(asAddress("alice#im.alice.test"), deviceIdOf(device.publicKey));
const serverKid = serverKeyId(asDomain("im.bob.test"), keyIdOf(server.publicKey));
const CREATED = 1_760_000_000;

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

const toMsg = (r: Req): HttpMessage => ({
  method: r.method,
  url: r.url,
  headers: r.headers,
  ...(r.body === null ? {} : { body: new TextEncoder().encode(r.body) }),
});

function signCase(description: string, request: Req, o: { key: typeof device; keyId: string; components: readonly string[]; nonce: string }) {
  const headers = signMessage(toMsg(request), { keyId: o.keyId, privateKey: o.key.privateKey, created: CREATED, nonce: o.nonce, components: o.components });
  const signedRequest = { ...request, headers: { ...request.headers, ...headers } };
  return {
    description,
    kind: "sign" as const,
    key: keyJson(o.key),
    keyId: o.keyId,
    created: CREATED,
    nonce: o.nonce,
    components: [...o.components],
    request,
    expected: { headers, signatureBase: signatureBaseText(toMsg(signedRequest), parseSignature(toMsg(signedRequest))) },
    signedRequest,
  };
}

export async function make() {
  const friendRequest = '{"request":{"body":{"from":"alice#im.alice.test"},"sig":"…"}}';
  const sign = [
    signCase(
      "client POST with a JSON body",
      { method: "POST", url: "https://im.alice.test/emsg/v1/friends/requests", headers: { "content-type": "application/json", "emsg-to": "im.alice.test" }, body: friendRequest },
      { key: device, keyId: deviceKid, components: CLIENT_COMPONENTS, nonce: countingB64u(16) },
    ),
    signCase(
      "client GET with a query and no body: content-digest is left out",
      { method: "GET", url: "https://im.alice.test/emsg/v1/mailbox?after=17&limit=100", headers: { "emsg-to": "im.alice.test" }, body: null },
      { key: device, keyId: deviceKid, components: CLIENT_COMPONENTS, nonce: countingB64u(16, 16) },
    ),
    signCase(
      "client DELETE with a percent-encoded address in the path and an empty query",
      { method: "DELETE", url: "https://im.alice.test/emsg/v1/friends/bob%23im.bob.test?", headers: { "emsg-to": "im.alice.test" }, body: null },
      { key: device, keyId: deviceKid, components: CLIENT_COMPONENTS, nonce: countingB64u(16, 32) },
    ),
    signCase(
      "federation POST from im.bob.test to im.alice.test, path given without origin",
      { method: "POST", url: "/emsg/v1/federation/inbox", headers: { "emsg-from": "im.bob.test", "emsg-to": "im.alice.test", "content-type": "application/json" }, body: '{"items":[]}' },
      { key: server, keyId: serverKid, components: FEDERATION_COMPONENTS, nonce: countingB64u(16, 48) },
    ),
    signCase(
      "federation GET opening a stream (§7): no body, so content-digest is left out",
      { method: "GET", url: "https://im.alice.test/emsg/v1/federation/stream", headers: { "emsg-from": "im.bob.test", "emsg-to": "im.alice.test", upgrade: "websocket" }, body: null },
      { key: server, keyId: serverKid, components: FEDERATION_COMPONENTS, nonce: countingB64u(16, 64) },
    ),
  ];
  const post = sign[0]!.signedRequest;
  const fed = sign[3]!.signedRequest;
  const stream = sign[4]!.signedRequest;
  const fedVerify = { publicKey: keyJson(server).publicKey, requiredComponents: FEDERATION_COMPONENTS, expectHeaders: { "emsg-from": "im.bob.test", "emsg-to": "im.alice.test" } };
  const devicePub = keyJson(device).publicKey;
  const v = (description: string, request: Req, change: Partial<{ publicKey: string; now: number; seen: { keyId: string; nonce: string }[]; error: string | null; requiredComponents: readonly string[]; expectHeaders: Record<string, string> }> = {}) => ({
    description,
    kind: "verify" as const,
    request,
    publicKey: change.publicKey ?? devicePub,
    now: change.now ?? CREATED + 10,
    requiredComponents: [...(change.requiredComponents ?? CLIENT_COMPONENTS)],
    expectHeaders: change.expectHeaders ?? { "emsg-to": "im.alice.test" },
    seen: change.seen ?? [],
    error: change.error ?? null,
  });
  const h = (over: Record<string, string>) => ({ ...post, headers: { ...post.headers, ...over } });
  const forged = signMessage(toMsg(sign[0]!.request), { keyId: deviceKid, privateKey: stranger.privateKey, created: CREATED, nonce: countingB64u(16), components: CLIENT_COMPONENTS });
  const verify = [
    v("the signed POST, 10 s later", post),
    v("the signed POST at the edge of the window (+300 s)", post, { now: CREATED + 300 }),
    v("the federation POST", fed, fedVerify),
    v("the stream's opening", stream, fedVerify),
    v("the stream's opening for another path", { ...stream, url: "https://im.alice.test/emsg/v1/federation/inbox" }, { ...fedVerify, error: "unauthorized" }),
    v("expired: 301 s after created", post, { now: CREATED + 301, error: "unauthorized" }),
    v("from the future: 301 s before created", post, { now: CREATED - 301, error: "unauthorized" }),
    v("replayed: (keyid, nonce) already seen", post, { seen: [{ keyId: deviceKid, nonce: countingB64u(16) }], error: "unauthorized" }),
    v("forged: signed by a key other than the keyid's", h(forged), { error: "unauthorized" }),
    v("body changed, digest left", { ...post, body: '{"request":{}}' }, { error: "unauthorized" }),
    v("body and digest changed together", { ...post, body: "{}", headers: { ...post.headers, "content-digest": contentDigest(new TextEncoder().encode("{}")) } }, { error: "unauthorized" }),
    v("sent to another server than signed for", h({ "emsg-to": "im.bob.test" }), { expectHeaders: { "emsg-to": "im.bob.test" }, error: "unauthorized" }),
    v("signed for another server than this one", post, { expectHeaders: { "emsg-to": "im.bob.test" }, error: "unauthorized" }),
    v("path changed", { ...post, url: "https://im.alice.test/emsg/v1/friends/requests/x" }, { error: "unauthorized" }),
    v("emsg-to not covered", h({ "signature-input": post.headers["signature-input"]!.replace(' "emsg-to"', "") }), { error: "unauthorized" }),
    v("Signature-Input missing", { ...post, headers: Object.fromEntries(Object.entries(post.headers).filter(([k]) => k !== "signature-input")) }, { error: "unauthorized" }),
    v("Signature-Input not a dictionary", h({ "signature-input": 'emsg=("@method"' }), { error: "unauthorized" }),
    v("an unsupported parameter (expires)", h({ "signature-input": `${post.headers["signature-input"]};expires=${CREATED + 60}` }), { error: "unauthorized" }),
    v("alg other than ed25519", h({ "signature-input": post.headers["signature-input"]!.replace('alg="ed25519"', 'alg="hmac-sha256"') }), { error: "unauthorized" }),
    v("Signature under another label", h({ signature: post.headers.signature!.replace(/^emsg=/, "sig1=") }), { error: "unauthorized" }),
    v("Content-Digest not a dictionary", h({ "content-digest": "sha-256=abc" }), { error: "bad_request" }),
  ];
  return {
    description:
      "HTTP message signatures (PROTOCOL §5, §7; RFC 9421 + RFC 9530). Bodies are UTF-8 text (null = no body); " +
      "header names are lower case; times are seconds. `sign` cases: signing `request` with seed `key.seed`, " +
      "`keyId`, `created`, `nonce` and `components` (content-digest dropped when there is no body) adds exactly " +
      "`expected.headers`; `expected.signatureBase` is the signature base text (LF-separated) and `signedRequest` " +
      "the request with those headers, which verifies. `verify` cases: a server at time `now` with key `publicKey` " +
      "for the keyid, requiring `requiredComponents` (content-digest only with a body), expecting the headers in " +
      "`expectHeaders`, having already seen the (keyId, nonce) pairs in `seen`, accepts the request when `error` is " +
      "null and otherwise refuses it with that code.",
    cases: [...sign, ...verify],
  };
}
