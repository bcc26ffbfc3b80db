import { sealArchive } from "../../shared/export-archive.js";
import { certifyDevice } from "../../shared/identity.js";
import { asAddress } from "../../shared/address.js";
import { countingBytes, fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "export-archive";

const N = 1024;
const PASSPHRASE = "correct horse battery staple";

export async function make() {
  const account = keyJson(fixedKeyPair("alice-account"));
  const laptop = fixedKeyPair("alice-laptop");
  const contents = {
    address: "alice#im.alice.test",
    accountKey: { pub: account.publicKey, priv: account.seed },
    device: {
      cert: certifyDevice(fixedKeyPair("alice-account"), asAddress("alice#im.alice.test"), laptop.publicKey, "old laptop", 1_760_000_000_000),
      priv: keyJson(laptop).seed,
    },
    friends: [{ address: "bob#im.bob.test", accountKey: keyJson(fixedKeyPair("bob-account")).publicKey, since: 1_760_000_000_000 }],
    groups: [],
    favorites: [{ id: "AAECAwQFBgcICQoLDA0ODw", peer: "bob#im.bob.test", from: "bob#im.bob.test", text: "see you at 8", at: 1_760_000_100_000 }],
    // The chat history that moves with the account (PROTOCOL §11): oldest first, edits as shown, timers kept.
    history: [
      {
        chat: "bob#im.bob.test",
        messages: [
          { id: "EBESExQVFhcYGRobHB0eHw", from: "alice#im.alice.test", text: "dinner at 8?", at: 1_760_000_050_000, editedAt: 1_760_000_060_000 },
          { id: "AAECAwQFBgcICQoLDA0ODw", from: "bob#im.bob.test", text: "see you at 8", at: 1_760_000_100_000, replyTo: "EBESExQVFhcYGRobHB0eHw", expiresAt: 1_760_086_500_000 },
        ],
      },
    ],
    settings: { strangers: "review", retentionDays: 30 },
    exportedAt: 1_760_000_500_000,
  };
  // salt = bytes 0..15, nonce = bytes 16..39: fixed so the vector never changes.
  let next = 0;
  const randomBytes = (length: number) => {
    const out = countingBytes(length, next);
    next += length;
    return out;
  };
  const file = await sealArchive(contents, PASSPHRASE, { N, randomBytes });
  const unicodeFile = await sealArchive({ note: "NFKC" }, "Caf\u00e9 \uff21", { N, randomBytes });
  return {
    description:
      "Export archives (PROTOCOL §11) sealed with a small scrypt N so they open fast; real exports use 2^17. " +
      "Opening `file` with `passphrase` gives `contents`; the sealing is deterministic given the salt and nonce " +
      "in the file, so sealing `contents` (JCS) with them gives `file.ciphertext` exactly. Cases with `error` " +
      "must be refused with that code.",
    cases: [
      { description: "Alice's account", passphrase: PASSPHRASE, file, contents },
      { description: "a passphrase opened after NFKC (typed as Cafe\u0301 A)", passphrase: "Cafe\u0301 A", file: unicodeFile, contents: { note: "NFKC" } },
      { description: "wrong passphrase", passphrase: "correct horse battery stapler", file, error: "unauthorized" },
      { description: "ciphertext changed", passphrase: PASSPHRASE, file: { ...file, ciphertext: `${file.ciphertext[0] === "A" ? "B" : "A"}${file.ciphertext.slice(1)}` }, error: "unauthorized" },
      { description: "N too large", passphrase: PASSPHRASE, file: { ...file, kdf: { ...file.kdf, N: 2 ** 21 } }, error: "bad_request" },
      { description: "r other than 8", passphrase: PASSPHRASE, file: { ...file, kdf: { ...file.kdf, r: 1 } }, error: "bad_request" },
      { description: "another archive version", passphrase: PASSPHRASE, file: { ...file, emsgExport: 2 }, error: "bad_request" },
      { description: "a 12-byte nonce", passphrase: PASSPHRASE, file: { ...file, nonce: file.nonce.slice(0, 16) }, error: "bad_request" },
    ],
  };
}
