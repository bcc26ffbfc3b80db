import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFriendInput } from "../../ui/view-models/friend-input.js";
import { composerAction, outgoingText } from "../../ui/view-models/composer.js";
import { deletionConfirmed, exportFileName, progressPercent, readRetention, retentionLabel } from "../../ui/view-models/settings-form.js";
import { connectivityBanner } from "../../ui/view-models/connectivity.js";
import { linkFormCheck } from "../../ui/view-models/link-form.js";
import { notificationBody, requestNotification, shouldNotify } from "../../ui/view-models/notification-policy.js";
import { translator } from "../../ui/i18n/translate.js";
import type { Address } from "../../shared/address.js";

const t = translator("en");
const me = "alice#im.alice.test" as Address;

describe("adding a friend", () => {
  it("accepts a pasted address, an emsg: link, a web-escaped link and a QR verify code", () => {
    for (const input of [" Bob#IM.bob.test ", "emsg:bob#im.bob.test", "emsg:bob%23im.bob.test", `emsg-verify:1:bob#im.bob.test:${"A".repeat(43)}`]) {
      expect(readFriendInput(input, me)).toEqual({ ok: true, address: "bob#im.bob.test" });
    }
  });

  it("explains in a sentence what is wrong with an address", () => {
    expect(readFriendInput("bob@im.bob.test", me)).toEqual({ ok: false, error: "An EMSG address looks like name#server, with a #." });
    expect(readFriendInput("alice#im.alice.test", me)).toEqual({ ok: false, error: "That is your own address." });
  });
});

describe("composer", () => {
  it("sends on Enter, adds a line on Shift+Enter and leaves an IME's Enter alone", () => {
    expect(composerAction({ key: "Enter", shiftKey: false, isComposing: false })).toBe("send");
    expect(composerAction({ key: "Enter", shiftKey: true, isComposing: false })).toBe("newline");
    expect(composerAction({ key: "Enter", shiftKey: false, isComposing: true })).toBe("none");
    expect(composerAction({ key: "a", shiftKey: false, isComposing: false })).toBe("none");
  });

  it("sends nothing for a blank draft and keeps inner lines", () => {
    expect(outgoingText("  \n \n")).toBeNull();
    expect(outgoingText("\nline one\nline two\n\n")).toBe("line one\nline two");
  });
});

describe("settings", () => {
  it("names retention choices and refuses days outside 1..3650", () => {
    expect(retentionLabel(null, t)).toBe("Forever");
    expect(retentionLabel(1, t)).toBe("1 day");
    expect(retentionLabel(30, t)).toBe("30 days");
    expect(readRetention("")).toBeNull();
    expect(readRetention("7")).toBe(7);
    expect(() => readRetention("0")).toThrow(RangeError);
    expect(() => readRetention("3651")).toThrow(RangeError);
  });

  it("deletes the account only when the exact address is typed", () => {
    expect(deletionConfirmed(" Alice#im.alice.test ", me)).toBe(true);
    expect(deletionConfirmed("alice", me)).toBe(false);
  });

  it("shows export progress as a whole percentage between 0 and 100", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (done, total) => {
        const p = progressPercent(done, total);
        return Number.isInteger(p) && p >= 0 && p <= 100;
      }),
    );
    expect(progressPercent(1, 3)).toBe(33);
  });

  it("names the export file after the address and day without a #", () => {
    expect(exportFileName(me, Date.UTC(2026, 10, 25))).toBe("emsg-alice_im.alice.test-2026-11-25.emsg");
  });
});

describe("connectivity and notifications", () => {
  it("says offline with the number waiting, and shows nothing when connected", () => {
    expect(connectivityBanner("offline", 2, "im.alice.test", t, false)).toEqual({
      tone: "warn",
      text: "You are offline. Messages wait here and go out when you are back. · 2 waiting to send",
    });
    expect(connectivityBanner("connecting", 0, "im.alice.test", t, true)?.text).toBe("Connecting to im.alice.test…");
    expect(connectivityBanner("online", 0, "im.alice.test", t, true)).toBeNull();
  });

  it("says the server connection was lost, not that the browser is offline, while the browser is online", () => {
    expect(connectivityBanner("offline", 1, "im.alice.test", t, true)).toEqual({
      tone: "warn",
      text: "Lost the connection to im.alice.test. Reconnecting… Messages wait here and go out once it is back. · 1 waiting to send",
    });
    expect(connectivityBanner("offline", 0, "im.alice.test", translator("zh-CN"), true)?.text).toBe("与 im.alice.test 的连接已断开，正在重新连接… 消息会先保存在这里，连接恢复后自动发送。");
  });

  it("words a bad link code as what it is and where to get one, never its format", () => {
    for (const code of ["hello", "emsg-link:x", "emsg-link:1:alice#im.alice.test:short"]) {
      expect(linkFormCheck({ code, protect: false, passphrase: "", again: "" }).codeError).toBe("link.notCode");
    }
    expect(t("link.notCode")).toBe("This is not a link code. Get one on your other device: Settings → Devices → Link a new device.");
    expect(t("link.notCode")).not.toContain("emsg-link");
    expect(linkFormCheck({ code: "emsg-link:9:alice#im.alice.test:a:b", protect: false, passphrase: "", again: "" }).codeError).toBe("link.otherVersion");
  });

  it("notifies only while hidden and permitted, with a short single-line body", () => {
    expect(shouldNotify({ hidden: true, permission: "granted" })).toBe(true);
    expect(shouldNotify({ hidden: false, permission: "granted" })).toBe(false);
    expect(shouldNotify({ hidden: true, permission: "denied" })).toBe(false);
    expect(notificationBody("a\n\nb   c")).toBe("a b c");
    expect(notificationBody("x".repeat(300)).length).toBe(120);
  });

  it("notifies of a friend request with its note, or says who asks, and of nothing else about friends", () => {
    const bob = "bob#im.bob.test" as Address;
    expect(requestNotification({ address: bob, state: "incoming", note: "from the climbing club" }, t)).toEqual({ title: `Friend request from ${bob}`, body: "from the climbing club" });
    expect(requestNotification({ address: bob, state: "held" }, t)).toEqual({ title: `Friend request from ${bob}`, body: `${bob} wants to be your EMSG friend.` });
    expect(requestNotification({ address: bob, state: "friend" }, t)).toBeNull();
    expect(requestNotification({ address: bob, state: "outgoing" }, t)).toBeNull();
  });
});
