import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { fingerprintDigits, parseVerifyQr, safetyNumber, safetyNumberGroups, verifyQrPayload } from "../../shared/safety-number.js";
import { errorCodeOf, fixedKeyPair } from "./_fixed-keys.js";

export const name = "safety-numbers";

const party = (address: string, label: string) => ({ address: asAddress(address), accountKey: fixedKeyPair(label).publicKey });

export async function make() {
  const alice = party("alice#im.alice.test", "alice-account");
  const bob = party("bob#im.bob.test", "bob-account");
  const bobMoved = party("bob#im.bob.test", "bob-account-rotated");
  const carol = party("carol#im.xn--bcher-kva.de", "carol-account");
  const pairs = [
    ["Alice and Bob", alice, bob],
    ["Alice and Bob after Bob's key changed", alice, bobMoved],
    ["Bob and Carol (IDNA host)", bob, carol],
  ] as const;
  const qrTexts = [
    verifyQrPayload(alice.address, alice.accountKey),
    ` ${verifyQrPayload(bob.address, bob.accountKey)}\n`,
    "emsg-verify:2:alice#im.alice.test:AAAA",
    `emsg-verify:1:Alice#im.alice.test:${toB64u(alice.accountKey)}`,
    `emsg-verify:1:alice#im.alice.test:${toB64u(alice.accountKey.subarray(0, 31))}`,
    "https://im.alice.test/",
  ];
  return {
    description:
      "Safety numbers (PROTOCOL §4). `number` cases: each party's 30 `digits` from its address and account key " +
      "(b64u), the 60-digit `safetyNumber` (the same whichever party computes it) and its 12 `groups`. " +
      "`qr` cases: a scanned `text` gives `address` and `accountKey`, or is refused with `error`.",
    cases: [
      ...pairs.map(([description, a, b]) => {
        const n = safetyNumber(a, b);
        return {
          description,
          kind: "number" as const,
          a: { address: a.address, accountKey: toB64u(a.accountKey), digits: fingerprintDigits(a), qr: verifyQrPayload(a.address, a.accountKey) },
          b: { address: b.address, accountKey: toB64u(b.accountKey), digits: fingerprintDigits(b), qr: verifyQrPayload(b.address, b.accountKey) },
          safetyNumber: n,
          groups: safetyNumberGroups(n),
        };
      }),
      ...qrTexts.map((text) => {
        const error = errorCodeOf(() => parseVerifyQr(text));
        if (error) return { description: `QR ${JSON.stringify(text)}`, kind: "qr" as const, text, error };
        const p = parseVerifyQr(text);
        return { description: `QR ${JSON.stringify(text)}`, kind: "qr" as const, text, address: p.address, accountKey: toB64u(p.accountKey) };
      }),
    ],
  };
}
