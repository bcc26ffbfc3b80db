import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MemoryStore } from "../../shared/client/store.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { Address } from "../../shared/address.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";
import { reconnectDelay } from "../../ui/view-models/reconnect.js";
import { deliveryOf } from "../../ui/view-models/conversation-model.js";
import { friendRow } from "../../ui/view-models/friends-model.js";
import { onboardingCheck } from "../../ui/view-models/onboarding-form.js";
import { translator } from "../../ui/i18n/translate.js";

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 25, 12);
const bob = "bob#im.bob.test" as Address;

function message(id: string, conversation: string, at: number): MessageRecord {
  return { id, conversation, from: bob, direction: "in", text: id, at, status: "received" };
}

describe("chat retention kept by older versions", () => {
  it("is handed over once and no longer kept beside the core", async () => {
    const store = new MemoryStore();
    await store.put(`pwa/retention/${bob}`, { days: 1 });
    await store.put("pwa/retention/hub/c", { days: null });
    const records = new LocalRecords(store);
    await records.star({ id: "old", conversation: "hub/a", peer: bob, from: bob, mine: false, text: "old", at: now - 3 * DAY, starredAt: now });
    expect(await records.takeRetentionOverrides()).toEqual(new Map<string, number | null>([[bob, 1], ["hub/c", null]]));
    expect(await records.takeRetentionOverrides()).toEqual(new Map());
    expect((await records.favorites()).map((f) => f.text)).toEqual(["old"]);
  });
});

describe("key changes and verification", () => {
  it("warns when a friend's key differs from the one first seen, until the new one is verified", async () => {
    const records = new LocalRecords(new MemoryStore());
    expect(await records.observeKey(bob, "key-1")).toBe(false);
    expect(await records.observeKey(bob, "key-1")).toBe(false);
    expect(await records.observeKey(bob, "key-2")).toBe(true);
    expect(await records.observeKey(bob, "key-2")).toBe(true);
    await records.setVerified(bob, "key-2", true);
    expect(await records.observeKey(bob, "key-2")).toBe(false);
    expect(await records.keyMemory(bob)).toEqual({ key: "key-2", verified: true });
  });

  it("shows a refused request as a sentence naming them, and offers answers only for incoming ones", () => {
    const refused = friendRow({ address: bob, accountKey: "", state: "outgoing", since: now, bounced: "stranger_refused" }, { verified: false, keyChanged: false }, translator("en"));
    expect(refused.problem).toBe(`${bob} only accepts messages from friends.`);
    expect([refused.canAnswer, refused.canWithdraw]).toEqual([false, true]);
    const incoming = friendRow({ address: bob, accountKey: "k", state: "held", since: now, note: "hello" }, { verified: false, keyChanged: false }, translator("en"));
    expect([incoming.canAnswer, incoming.note, incoming.isFriend, incoming.canWithdraw]).toEqual([true, "hello", false, false]);
  });

  it("says a request to an address nobody has names it, in the screen's language", () => {
    const unknown = { address: bob, accountKey: "", state: "outgoing" as const, since: now, bounced: "not_found" };
    expect(friendRow(unknown, { verified: false, keyChanged: false }, translator("en")).problem).toBe(`There is no account ${bob}.`);
    expect(friendRow(unknown, { verified: false, keyChanged: false }, translator("zh-CN")).problem).toBe(`账号 ${bob} 不存在。`);
  });
});

describe("delivery and reconnecting", () => {
  it("says a message still waiting is queued while offline and sending while online", () => {
    const out: MessageRecord = { ...message("m", "hub/a", now), direction: "out", status: "sending" };
    expect(deliveryOf(out, "offline")).toBe("queued");
    expect(deliveryOf(out, "online")).toBe("sending");
    expect(deliveryOf(out, "removed")).toBe("failed");
    expect(deliveryOf({ ...out, status: "delivered" }, "offline")).toBe("delivered");
    expect(deliveryOf(message("in", "hub/a", now), "online")).toBeNull();
  });

  it("backs off from about a second to at most about thirty", () => {
    fc.assert(fc.property(fc.nat(40), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const delay = reconnectDelay(attempt, () => r);
      return delay >= 800 && delay <= 36_000;
    }));
    expect(reconnectDelay(0, () => 0.5)).toBe(1000);
    expect(reconnectDelay(3, () => 0.5)).toBe(8000);
    expect(reconnectDelay(20, () => 0.5)).toBe(30_000);
  });
});

describe("onboarding", () => {
  it("previews the address and waits for matching passphrases of 8 or more characters", () => {
    const base = { name: "Alice", domain: "im.alice.test", protect: false, passphrase: "", again: "" };
    expect(onboardingCheck(base)).toMatchObject({ ready: true, address: "alice#im.alice.test" });
    expect(onboardingCheck({ ...base, name: "al ice" })).toMatchObject({ ready: false, address: null });
    expect(onboardingCheck({ ...base, protect: true, passphrase: "short", again: "short" }).passError).toBe("onboarding.passphraseShort");
    expect(onboardingCheck({ ...base, protect: true, passphrase: "long enough", again: "long enougH" }).passError).toBe("onboarding.passphraseMismatch");
    expect(onboardingCheck({ ...base, protect: true, passphrase: "long enough", again: "long enough" }).ready).toBe(true);
  });

  it("says in one sentence of the screen's language which rule a name breaks, not the hint again", () => {
    const base = { name: "", domain: "im.alice.test", protect: false, passphrase: "", again: "" };
    const why = (name: string) => onboardingCheck({ ...base, name }).nameError;
    expect(why("Alice Smith")).toBe("onboarding.nameSpace");
    expect(why("alice!")).toBe("onboarding.nameBad");
    expect(why("a".repeat(65))).toBe("onboarding.nameLong");
    expect(why("   ")).toBe("onboarding.nameMissing");
    expect(why("Alice.Smith")).toBeNull();
    const zh = translator("zh-CN");
    expect(zh(why("Alice Smith")!)).toContain("空格");
  });
});
