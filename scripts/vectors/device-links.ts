import { formatLinkCode, type LinkBundle, sealLinkBundle } from "../../shared/device-link.js";
import type { Address } from "../../shared/address.js";
import { countingB64u, countingBytes, fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "device-links";

export async function make() {
  const address = "alice#im.alice.test" as Address;
  const account = keyJson(fixedKeyPair("alice-account"));
  const id = countingB64u(16, 0x40);
  const key = countingBytes(32, 0x80);
  const code = { address, id, key };
  const bundle: LinkBundle = {
    emsgLink: 1,
    address,
    accountKey: { pub: account.publicKey, priv: account.seed },
    friends: [
      { address: "bob#im.bob.test" as Address, accountKey: keyJson(fixedKeyPair("bob-account")).publicKey, state: "friend", since: 1_760_000_000_000 },
      { address: "carol#im.carol.test" as Address, accountKey: "", state: "outgoing", since: 1_760_000_100_000, note: "hi Carol", requestId: countingB64u(16, 0x10) },
    ],
    settings: { strangers: "review", retentionDays: 30 },
    created: 1_760_000_500_000,
  };
  const sealed = sealLinkBundle(bundle, code, countingBytes(24, 0));
  // The same link with Alice's newest messages (PROTOCOL §6: `history`, shaped as an export's, §11).
  const withMessages: LinkBundle = {
    ...bundle,
    history: [
      {
        chat: "bob#im.bob.test" as Address,
        messages: [
          { id: countingB64u(16, 0x20), from: "bob#im.bob.test" as Address, text: "Lunch on Friday?", at: 1_760_000_200_000 },
          { id: countingB64u(16, 0x21), from: address, text: "Yes, at noon", at: 1_760_000_300_000, replyTo: countingB64u(16, 0x20), editedAt: 1_760_000_310_000 },
        ],
      },
      { chat: "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA" as never, title: "Climbing", messages: [{ id: countingB64u(16, 0x22), from: "carol#im.carol.test" as Address, text: "Ropes are packed 🧗", at: 1_760_000_400_000, expiresAt: 1_760_604_400_000 }] },
    ],
  };
  const sealedWithMessages = sealLinkBundle(withMessages, code, countingBytes(24, 1));
  // Written since links carry where messages stand (§6): Alice's reply was read, Bob's question has her 👍.
  const withStanding: LinkBundle = {
    ...withMessages,
    history: [
      {
        chat: "bob#im.bob.test" as Address,
        messages: [
          { id: countingB64u(16, 0x20), from: "bob#im.bob.test" as Address, text: "Lunch on Friday?", at: 1_760_000_200_000, reactions: [{ by: address, emoji: "👍", at: 1_760_000_250_000 }] },
          { id: countingB64u(16, 0x21), from: address, text: "Yes, at noon", at: 1_760_000_300_000, status: "read" },
          { id: countingB64u(16, 0x23), from: address, text: "See you", at: 1_760_000_320_000, status: "delivered" },
        ],
      },
    ],
  };
  const sealedWithStanding = sealLinkBundle(withStanding, code, countingBytes(24, 2));
  const text = formatLinkCode(code);
  const flipped = `${sealed.sealed[0] === "A" ? "B" : "A"}${sealed.sealed.slice(1)}`;
  return {
    description:
      "Device links (PROTOCOL §6): `code` is the text (and QR) the existing device shows; parsing it gives " +
      "`address`, `id` and `key`. `sealed` is XChaCha20-Poly1305 with `key`, `nonce` and associated data " +
      "UTF8(\"emsg-link:1:\" + address + \":\" + id) over UTF8(JCS(bundle)), so sealing `bundle` again gives it " +
      "exactly. Codes with `error` must be refused with that code; `open` cases must open to `bundle` or fail with `error`.",
    cases: [
      { description: "Alice's link", code: text, address, id, key: countingB64u(32, 0x80), nonce: sealed.nonce, sealed: sealed.sealed, bundle },
      { description: "Alice's link with her newest messages", code: text, address, id, key: countingB64u(32, 0x80), nonce: sealedWithMessages.nonce, sealed: sealedWithMessages.sealed, bundle: withMessages },
      { description: "Alice's link with her messages' reactions and delivery state", code: text, address, id, key: countingB64u(32, 0x80), nonce: sealedWithStanding.nonce, sealed: sealedWithStanding.sealed, bundle: withStanding },
      { description: "surrounding whitespace is ignored", code: `  ${text}\n`, address, id, key: countingB64u(32, 0x80) },
      { description: "another version", code: text.replace("emsg-link:1:", "emsg-link:2:"), error: "unsupported_version" },
      { description: "not a link code", code: "emsg-verify:1:alice#im.alice.test:AAAA", error: "bad_request" },
      { description: "address not in normal form", code: text.replace("alice#", "Alice#"), error: "bad_request" },
      { description: "a 15-byte id", code: `emsg-link:1:${address}:${countingB64u(15)}:${countingB64u(32)}`, error: "bad_request" },
      { description: "a 31-byte key", code: `emsg-link:1:${address}:${id}:${countingB64u(31)}`, error: "bad_request" },
      { description: "a part missing", code: `emsg-link:1:${address}:${id}`, error: "bad_request" },
      { description: "wrong key", open: { code: formatLinkCode({ ...code, key: countingBytes(32, 0x81) }), nonce: sealed.nonce, sealed: sealed.sealed }, error: "unauthorized" },
      { description: "sealed bytes changed", open: { code: text, nonce: sealed.nonce, sealed: flipped }, error: "unauthorized" },
      { description: "sealed for another link id", open: { code: formatLinkCode({ ...code, id: countingB64u(16, 0x41) }), nonce: sealed.nonce, sealed: sealed.sealed }, error: "unauthorized" },
    ],
  };
}
