import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import type { Address } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import type { ArchiveChat } from "../../shared/account-archive.js";
import { formatLinkCode, LINK_HISTORY_MAX_MESSAGES, type LinkBundle, openLinkBundle, parseLinkCode, sealLinkBundle, withHistory } from "../../shared/device-link.js";
import { jcsBytes } from "../../shared/canonical.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { LINK_SEALED_MAX_CHARS } from "../../shared/wire/account.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { loadGenerators, vectorText } from "../../scripts/make-vectors.js";

/** Vector cases are plain JSON read from disk. */
type Case = any;

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return (e as EmsgError).code;
  }
}

const vectors = JSON.parse(readFileSync(new URL("../vectors/device-links.json", import.meta.url), "utf8")) as { cases: Case[] };
const alice = "alice#im.alice.test" as Address;

function bundleFor(address: Address, friends: LinkBundle["friends"] = []): LinkBundle {
  const account = generateKeyPair();
  return {
    emsgLink: 1,
    address,
    accountKey: { pub: toB64u(account.publicKey), priv: toB64u(account.privateKey) },
    friends,
    settings: { strangers: "accept", retentionDays: null },
    created: 1_760_000_000_000,
  };
}

describe("device link vectors", () => {
  it("are what the generator makes today", async () => {
    const gen = (await loadGenerators()).find((g) => g.name === "device-links")!;
    expect(vectorText(await gen.make())).toBe(readFileSync(new URL("../vectors/device-links.json", import.meta.url), "utf8"));
  });

  it("parse, seal and open as the vectors say", () => {
    for (const c of vectors.cases) {
      if (c.open) {
        const code = parseLinkCode(c.open.code);
        expect(codeOf(() => openLinkBundle({ nonce: c.open.nonce, sealed: c.open.sealed }, code)), c.description).toBe(c.error);
      } else if (c.error) {
        expect(codeOf(() => parseLinkCode(c.code)), c.description).toBe(c.error);
      } else {
        const code = parseLinkCode(c.code);
        expect({ address: code.address, id: code.id, key: toB64u(code.key) }, c.description).toEqual({ address: c.address, id: c.id, key: c.key });
        if (c.sealed) {
          expect(openLinkBundle({ nonce: c.nonce, sealed: c.sealed }, code)).toEqual(c.bundle);
          expect(sealLinkBundle(c.bundle, code, fromB64u(c.nonce))).toEqual({ nonce: c.nonce, sealed: c.sealed });
        }
      }
    }
  });
});

describe("link codes", () => {
  it("round-trip through text", () => {
    const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
    const parsed = parseLinkCode(formatLinkCode(code));
    expect(parsed).toEqual(code);
  });

  it("refuse garbage with typed errors", () => {
    for (const text of ["", "emsg-link:", "emsg-link:1", "emsg-link:1:::", "hello", "emsg-link:1:alice:AAAA:BBBB", `emsg-link:1:${alice}:${randomId16()}:${toB64u(new Uint8Array(32))}:extra`]) {
      expect(codeOf(() => parseLinkCode(text)), text).toBe("bad_request");
    }
    expect(codeOf(() => parseLinkCode(`emsg-link:9:${alice}:x:y`))).toBe("unsupported_version");
    expect(codeOf(() => parseLinkCode(42 as unknown as string))).toBe("bad_request");
  });
});

describe("link bundles", () => {
  it("open only with their own key, address and id", () => {
    const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
    const bundle = bundleFor(alice);
    const sealed = sealLinkBundle(bundle, code);
    expect(openLinkBundle(sealed, code)).toEqual(bundle);
    expect(codeOf(() => openLinkBundle(sealed, { ...code, key: new Uint8Array(32) }))).toBe("unauthorized");
    expect(codeOf(() => openLinkBundle(sealed, { ...code, address: "mallory#im.alice.test" as Address }))).toBe("unauthorized");
    expect(codeOf(() => openLinkBundle({ ...sealed, nonce: "AAAA" }, code))).toBe("bad_request");
  });

  it("refuse a bundle whose key pair does not match, even sealed with the right key", () => {
    const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
    const bundle = bundleFor(alice);
    const forged = { ...bundle, accountKey: { ...bundle.accountKey, pub: toB64u(generateKeyPair().publicKey) } };
    expect(codeOf(() => openLinkBundle(sealLinkBundle(forged, code), code))).toBe("bad_request");
  });

  it("cannot be sealed for another address than the code's", () => {
    const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
    expect(codeOf(() => sealLinkBundle(bundleFor("bob#im.bob.test" as Address), code))).toBe("bad_request");
  });

  it("stay within the size a server accepts, or refuse to seal", () => {
    const code = { address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) };
    const friend = (i: number) => ({ address: `friend${i}#im.bob.test` as Address, accountKey: toB64u(new Uint8Array(32).fill(i & 0xff)), state: "friend" as const, since: i, note: "n".repeat(200) });
    const fits = sealLinkBundle(bundleFor(alice, Array.from({ length: 300 }, (_, i) => friend(i))), code);
    expect(fits.sealed.length).toBeLessThanOrEqual(LINK_SEALED_MAX_CHARS);
    expect(codeOf(() => sealLinkBundle(bundleFor(alice, Array.from({ length: 2000 }, (_, i) => friend(i))), code))).toBe("too_large");
  });
});

describe("a link bundle's history", () => {
  const code = () => ({ address: alice, id: randomId16(), key: crypto.getRandomValues(new Uint8Array(32)) });
  const bob = "bob#im.bob.test" as Address;
  /** `count` messages a chat, one a minute, the chats' clocks interleaved, some words longer than others. */
  const chats = (count: number): ArchiveChat[] =>
    ["bob#im.bob.test", "carol#im.carol.test", "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA"].map((chat, c) => ({
      chat: chat as ArchiveChat["chat"],
      ...(chat.includes("/") ? { title: "Climbing 🧗" } : {}),
      messages: Array.from({ length: count }, (_, i) => ({ id: `m${c}-${i}`, from: i % 2 ? alice : bob, text: `${"word ".repeat((i * 7) % 40)}#${i} 你好`, at: 1_760_000_000_000 + (i * 3 + c) * 60_000 })),
    }));

  it("carries a whole small history as it is, and opens to it", () => {
    const history = chats(5);
    const bundle = withHistory(bundleFor(alice), history);
    expect(bundle.history).toEqual(history);
    const link = code();
    expect(openLinkBundle(sealLinkBundle(bundle, link), link)).toEqual(bundle);
  });

  it("carries no history key when there is nothing to carry", () => {
    const bundle = bundleFor(alice);
    expect(withHistory(bundle, [])).toEqual(bundle);
    expect("history" in withHistory(bundle, [{ chat: bob, messages: [] }])).toBe(false);
  });

  it("takes the newest messages across all chats that fit the sealed limit, each chat oldest first", () => {
    const history = chats(3000);
    const bundle = withHistory(bundleFor(alice), history);
    const link = code();
    const sealed = sealLinkBundle(bundle, link);
    expect(sealed.sealed.length).toBeLessThanOrEqual(LINK_SEALED_MAX_CHARS);
    // Nearly full: what is left is less than one more message.
    expect(sealed.sealed.length).toBeGreaterThan(LINK_SEALED_MAX_CHARS - 600);
    const kept = bundle.history!.flatMap((c) => c.messages);
    const all = history.flatMap((c) => c.messages);
    expect(kept.length).toBeGreaterThan(300);
    expect(kept.length).toBeLessThan(all.length);
    const oldestKept = Math.min(...kept.map((m) => m.at));
    expect(all.filter((m) => m.at >= oldestKept).length).toBe(kept.length);
    expect(bundle.history!.map((c) => c.chat)).toEqual(history.map((c) => c.chat));
    expect(bundle.history![2]!.title).toBe("Climbing 🧗");
    for (const chat of bundle.history!) expect(chat.messages.map((m) => m.at)).toEqual([...chat.messages.map((m) => m.at)].sort((a, b) => a - b));
    expect(openLinkBundle(sealed, link)).toEqual(bundle);
  });

  it("never takes more messages than the device reads for it (LINK_HISTORY_MAX_MESSAGES), even the shortest ones", () => {
    const shortest = [{ chat: bob, messages: Array.from({ length: 4000 }, () => ({ id: "i", from: "a#b.c" as typeof bob, text: "", at: 0 })) }];
    const kept = withHistory({ ...bundleFor(alice), friends: [] }, shortest).history![0]!.messages.length;
    expect(kept).toBeLessThanOrEqual(LINK_HISTORY_MAX_MESSAGES);
    expect(kept).toBeGreaterThan(LINK_HISTORY_MAX_MESSAGES - 100);
  });

  it("leaves out a message too long for any bundle, not every message before it", () => {
    const history = chats(3);
    const long = { id: "long", from: bob, text: "你好".repeat(30_000), at: 1_770_000_000_000 };
    history[0]!.messages.push(long);
    const bundle = withHistory(bundleFor(alice), history);
    const kept = bundle.history!.flatMap((c) => c.messages.map((m) => m.id));
    expect(kept).not.toContain("long");
    expect(kept).toHaveLength(9);
    const link = code();
    expect(openLinkBundle(sealLinkBundle(bundle, link), link)).toEqual(bundle);
  });

  it("keeps each chat's order when messages share a time", () => {
    const same = [{ chat: bob, messages: ["first", "second", "third"].map((text, i) => ({ id: `s${i}`, from: bob, text, at: 1_760_000_000_000 })) }];
    expect(withHistory(bundleFor(alice), same).history![0]!.messages.map((m) => m.text)).toEqual(["first", "second", "third"]);
  });

  it("refuses a history past the export's limits, sealed with the right key (bad_request)", () => {
    const link = code();
    const sealRaw = (bundle: unknown) => {
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const sealed = xchacha20poly1305(link.key, nonce, new TextEncoder().encode(`emsg-link:1:${link.address}:${link.id}`)).encrypt(jcsBytes(bundle));
      return { nonce: toB64u(nonce), sealed: toB64u(sealed) };
    };
    const base = bundleFor(alice);
    const message = { id: "x", from: bob, text: "hi", at: 1 };
    expect(codeOf(() => openLinkBundle(sealRaw({ ...base, history: [{ chat: bob, messages: [{ ...message, text: "x".repeat(65_537) }] }] }), link))).toBe("bad_request");
    expect(codeOf(() => openLinkBundle(sealRaw({ ...base, history: [{ chat: "not an address", messages: [message] }] }), link))).toBe("bad_request");
    expect(codeOf(() => openLinkBundle(sealRaw({ ...base, history: [{ chat: bob, messages: [{ ...message, from: 7 }] }] }), link))).toBe("bad_request");
    expect(codeOf(() => openLinkBundle(sealRaw({ ...base, history: "all of it" }), link))).toBe("bad_request");
  });
});
