import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { parseArchiveContents } from "../../shared/account-archive.js";
import { certifyDevice } from "../../shared/identity.js";
import { carriedMove, movedVerifies } from "../../shared/move.js";
import { signObject, signingInput } from "../../shared/signed.js";
import type { SignedFriendRequest, SignedMoved } from "../../shared/wire/index.js";
import { errorCodeOf, fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "account-move";

const OLD = "alice#im.alice.test";
const NEW = "alice#im.carol.test";
const oldKey = fixedKeyPair("alice-account");
const newKey = fixedKeyPair("alice-new-account");
const mallory = fixedKeyPair("mallory-account");
const bob = fixedKeyPair("bob-account");
const laptop = fixedKeyPair("alice-laptop");
const AT = 1_760_000_600_000;

const utf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function notice(body: { from: string; to: string; accountKey: string; at: number }, signer = oldKey): SignedMoved {
  return signObject(signer.privateKey, "moved", body) as SignedMoved;
}

function introduction(moved: SignedMoved, from = NEW, key = newKey): SignedFriendRequest {
  const body = { from, to: "bob#im.bob.test", accountKey: toB64u(key.publicKey), created: AT + 1000, id: "EBESExQVFhcYGRobHB0eHw", note: "", moved };
  return signObject(key.privateKey, "friend-request", body) as SignedFriendRequest;
}

/** Whether a receiver who pinned `pinnedKey` for the notice's `from` (a friend) lets the request past its policy. */
function introduces(request: SignedFriendRequest, pinnedKey = toB64u(oldKey.publicKey)): boolean {
  const moved = carriedMove(request);
  return moved !== null && movedVerifies(moved, pinnedKey);
}

const device = { cert: certifyDevice(oldKey, asAddress(OLD), laptop.publicKey, "old laptop", 1_760_000_000_000), priv: toB64u(laptop.privateKey) };

const contents = {
  address: OLD,
  accountKey: { pub: toB64u(oldKey.publicKey), priv: toB64u(oldKey.privateKey) },
  device,
  friends: [{ address: "bob#im.bob.test", accountKey: toB64u(bob.publicKey), since: 1_760_000_000_000 }],
  groups: [{ conversation: "im.alice.test/AAECAwQFBgcICQoLDA0ODw", members: [OLD, "bob#im.bob.test", "carol#im.carol.test"], title: "Trip" }],
  favorites: [{ id: "AAECAwQFBgcICQoLDA0ODw", peer: "bob#im.bob.test", from: "bob#im.bob.test", text: "see you at 8", at: 1_760_000_100_000 }],
  settings: { strangers: "review", retentionDays: 30 },
  exportedAt: 1_760_000_500_000,
};

export async function make() {
  const body = { from: OLD, to: NEW, accountKey: toB64u(newKey.publicKey), at: AT };
  const moved = notice(body);
  const intro = introduction(moved);
  const introCases = [
    { description: "a request from the new address carrying the move", request: intro },
    { description: "the move names another new address", request: introduction(notice({ ...body, to: "eve#im.carol.test" })) },
    { description: "the move names another new key", request: introduction(notice({ ...body, accountKey: toB64u(mallory.publicKey) })) },
    { description: "the move is signed by another key than the one pinned", request: introduction(notice(body, mallory)) },
    { description: "a move to the same address", request: introduction(notice({ ...body, to: NEW, from: NEW }), NEW) },
  ].map((c) => ({ ...c, signingInput: utf8(signingInput("friend-request", c.request.body)), introduces: introduces(c.request) }));
  const archiveCases = [
    { description: "an export's contents", contents },
    { description: "unknown members are ignored", contents: { ...contents, "x-acme-theme": "dark", friends: [{ ...contents.friends[0], nickname: "B" }] } },
    { description: "pub is not the public key of priv", contents: { ...contents, accountKey: { ...contents.accountKey, pub: toB64u(mallory.publicKey) } } },
    { description: "a friend without a key", contents: { ...contents, friends: [{ address: "bob#im.bob.test", since: 1 }] } },
    { description: "an address not in normal form", contents: { ...contents, address: "Alice#IM.alice.test" } },
    { description: "retention of zero days", contents: { ...contents, settings: { strangers: "accept", retentionDays: 0 } } },
    { description: "favorites missing", contents: { ...contents, favorites: undefined } },
    { description: "a group whose name is not text", contents: { ...contents, groups: [{ ...contents.groups[0], title: 7 }] } },
    { description: "no device (an export made before moves needed one): restores, cannot announce", contents: { ...contents, device: undefined } },
    { description: "the device certified by another account key", contents: { ...contents, device: { ...device, cert: certifyDevice(mallory, asAddress(OLD), laptop.publicKey, "old laptop", 1_760_000_000_000) } } },
    { description: "the device certified for another address", contents: { ...contents, device: { ...device, cert: certifyDevice(oldKey, asAddress(NEW), laptop.publicKey, "old laptop", 1_760_000_000_000) } } },
    { description: "device.priv is not the certified key", contents: { ...contents, device: { ...device, priv: toB64u(bob.privateKey) } } },
    { description: "a device certificate whose signature does not verify", contents: { ...contents, device: { ...device, cert: { ...device.cert, body: { ...device.cert.body, label: "changed" } } } } },
  ].map((c) => ({ ...c, error: errorCodeOf(() => parseArchiveContents(c.contents)) }));
  return {
    description:
      "Moving an account (PROTOCOL §9, §11). `moved`: the notice the old account key signs; signing `body` " +
      "under context `moved` with `oldKey.seed` gives `signingInput` and `sig`. `introductions`: friend requests from the " +
      "new address carrying the notice as `moved`; `introduces` says whether a receiver who pinned `oldKey.publicKey` for " +
      "the friend `moved.body.from` lets it past its stranger policy as an `incoming` request (to = requester, same key, " +
      "verifies, to ≠ from). None makes the requester a friend by itself: only the old server's `moved` notice does. " +
      "`archiveContents`: the plaintext of an export archive, `device` the exporting device (its certificate by " +
      "`oldKey` and its seed); `error` null means it must be accepted, else refused with that code.",
    oldKey: keyJson(oldKey),
    newKey: { publicKey: toB64u(newKey.publicKey) },
    moved: { body, signingInput: utf8(signingInput("moved", body)), sig: moved.sig },
    introductions: introCases,
    archiveContents: archiveCases,
  };
}
