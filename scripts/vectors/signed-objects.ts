import { sha256 } from "@noble/hashes/sha2.js";
import { toB64u } from "../../shared/base64url.js";
import { type SignContext, signObject, signingInput } from "../../shared/signed.js";
import { fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "signed-objects";

const alice = fixedKeyPair("alice-account");
const mallory = fixedKeyPair("mallory-account");

const GOOD: { description: string; context: SignContext; body: unknown }[] = [
  {
    description: "a friend request",
    context: "friend-request",
    body: {
      from: "alice#im.alice.test",
      to: "bob#im.bob.test",
      accountKey: toB64u(alice.publicKey),
      created: 1_760_000_000_000,
      id: "AAECAwQFBgcICQoLDA0ODw",
      note: "Hi Bob, it's Alice from the caf\u00e9 \u2615",
    },
  },
  { description: "members out of order, nested, numbers JCS writes specially", context: "moved", body: { z: [3, 1e21, 0.5, -0], a: { y: null, b: true }, "\u20ac": "euro" } },
  { description: "an empty body", context: "deleted", body: {} },
  { description: "an account deletion", context: "account-delete", body: { address: "alice#im.alice.test", at: 1_760_000_000_000 } },
  {
    description: "a server vouching for its user's Submit to a remote hub (PROTOCOL §9); mls and welcome are b64u(SHA-256) of the Submit's texts",
    context: "conv-author",
    body: {
      conversation: "im.carol.test/AAECAwQFBgcICQoLDA0ODw",
      id: "EBESExQVFhcYGRobHB0eHw",
      from: "alice#im.alice.test",
      deviceId: "ICEiIyQlJicoKSorLC0uLw",
      mls: toB64u(sha256(new TextEncoder().encode("AAEC"))),
      welcome: toB64u(sha256(new TextEncoder().encode("AwQF"))),
    },
  },
];

export async function make() {
  const good = GOOD.map(({ description, context, body }) => ({
    description,
    context,
    key: keyJson(alice),
    body,
    signingInput: new TextDecoder().decode(signingInput(context, body)),
    sig: signObject(alice.privateKey, context, body).sig,
    valid: true,
  }));
  const base = good[0]!;
  const other = signObject(mallory.privateKey, base.context, base.body).sig;
  const bad = [
    { description: "the body changed after signing", body: { ...(base.body as object), note: "Hi Bob" } },
    { description: "an extra member added to the body", body: { ...(base.body as object), "x-acme": 1 } },
    { description: "checked under another context", context: "friend-response" },
    { description: "signed by another key", sig: other },
    { description: "last signature byte changed", sig: base.sig.slice(0, -2) + (base.sig.at(-2) === "A" ? "B" : "A") + base.sig.at(-1) },
    { description: "signature cut short", sig: base.sig.slice(0, 80) },
    { description: "signature not base64url", sig: `${base.sig.slice(0, 85)}+` },
  ].map((change) => ({
    description: change.description,
    context: change.context ?? base.context,
    key: { publicKey: base.key.publicKey },
    body: change.body ?? base.body,
    sig: change.sig ?? base.sig,
    valid: false,
  }));
  return {
    description:
      "Signed objects (PROTOCOL §1). `signingInput` is the UTF-8 text whose bytes are signed: " +
      '"EMSG-v1/" + context + LF + JCS(body). Valid cases: signing `body` under `context` with the ' +
      "Ed25519 seed `key.seed` gives exactly `sig`, and `sig` verifies under `key.publicKey`. " +
      "Invalid cases: `sig` MUST NOT verify for `body` under `context` and `key.publicKey`.",
    cases: [...good, ...bad],
  };
}
