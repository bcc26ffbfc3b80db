import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { verifyQrPayload } from "../../shared/safety-number.js";
import { readFriendInput } from "../../ui/view-models/friend-input.js";
import { addParameter, judgeScannedCode } from "../../ui/view-models/scanned-code.js";

const bob = asAddress("bob#im.bob.test");
const me = asAddress("alice#im.alice.test");
const bobKey = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(9);

describe("scanning a friend's safety code", () => {
  it("matches only their address with the key pinned for them", () => {
    expect(judgeScannedCode(verifyQrPayload(bob, bobKey), bob, toB64u(bobKey))).toEqual({ kind: "match" });
    expect(judgeScannedCode(`  ${verifyQrPayload(bob, bobKey)}\n`, bob, toB64u(bobKey))).toEqual({ kind: "match" });
  });

  it("calls a code with another key a mismatch, and never a match when nothing is pinned", () => {
    expect(judgeScannedCode(verifyQrPayload(bob, otherKey), bob, toB64u(bobKey))).toEqual({ kind: "mismatch" });
    expect(judgeScannedCode(verifyQrPayload(bob, bobKey), bob, "")).toEqual({ kind: "mismatch" });
  });

  it("says whose code it is when it is someone else's", () => {
    expect(judgeScannedCode(verifyQrPayload(me, bobKey), bob, toB64u(bobKey))).toEqual({ kind: "other-person", address: me });
  });

  it("reads anything else, however odd, as unreadable and never as a match", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        fc.pre(!text.trim().startsWith("emsg-verify:"));
        expect(judgeScannedCode(text, bob, toB64u(bobKey))).toEqual({ kind: "unreadable" });
      }),
    );
    expect(judgeScannedCode("emsg-verify:2:bob#im.bob.test:AAAA", bob, toB64u(bobKey))).toEqual({ kind: "unreadable" });
  });
});

describe("adding a friend from a link or a scanned code", () => {
  it("reads invite links, web+emsg: links and verify codes as the address in them", () => {
    for (const text of [
      "https://im.bob.test/?add=bob%23im.bob.test",
      "http://127.0.0.1:8788/?add=bob%23im.bob.test&x=1",
      "web+emsg:bob%23im.bob.test",
      "WEB+EMSG:bob#im.bob.test",
      "emsg:bob#im.bob.test",
      verifyQrPayload(bob, bobKey),
    ]) {
      expect(readFriendInput(text, me)).toEqual({ ok: true, address: bob });
    }
  });

  it("refuses a web link that carries no address", () => {
    expect(readFriendInput("https://im.bob.test/#/chats", me).ok).toBe(false);
  });

  it("takes the ?add= parameter of the page's URL, when there is one", () => {
    expect(addParameter("?add=bob%23im.bob.test")).toBe("bob#im.bob.test");
    expect(addParameter("?add=web%2Bemsg%3Abob%2523im.bob.test")).toBe("web+emsg:bob%23im.bob.test");
    expect(readFriendInput(addParameter("?add=web%2Bemsg%3Abob%2523im.bob.test")!, me)).toEqual({ ok: true, address: bob });
    expect(addParameter("")).toBeNull();
    expect(addParameter("?add=%20")).toBeNull();
  });
});
