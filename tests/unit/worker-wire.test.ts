import { describe, expect, it } from "vitest";
import * as v from "valibot";
import fc from "fast-check";
import { toB64u } from "../../shared/base64url.js";
import {
  ClientFrameSchema,
  conversationRef,
  FedItemSchema,
  MailItemSchema,
  parseConversationRef,
  SettingsSchema,
  SubmitSchema,
} from "../../shared/wire/index.js";
import type { Domain } from "../../shared/address.js";

const id = () => toB64u(crypto.getRandomValues(new Uint8Array(16)));

describe("wire schemas", () => {
  it("round-trips a conversation reference HUB/ID", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const ref = conversationRef("im.alice.test" as Domain, toB64u(bytes));
        expect(parseConversationRef(ref)).toEqual({ hub: "im.alice.test", id: toB64u(bytes), ref });
      }),
    );
  });

  it("refuses a conversation reference without a 16-byte id or with a bad hub", () => {
    expect(() => parseConversationRef("im.alice.test/abc")).toThrow(/16-byte/);
    expect(() => parseConversationRef(`IM.alice.test/${id()}`)).toThrow(/normal form/);
    const known = id();
    expect(parseConversationRef(`im.alice.test/${known}`).hub).toBe("im.alice.test");
    expect(() => parseConversationRef(`IM.alice.test/${known}`)).toThrow(/normal form/);
    expect(() => parseConversationRef(`im.alice.test/${known}x`)).toThrow(/16-byte/);
  });

  it("accepts a commit submit and ignores unknown members", () => {
    const out = v.parse(SubmitSchema, { id: id(), epoch: 0, kind: "commit", mls: "AAEC", roster: { add: ["bob#im.bob.test"] }, x: 1 });
    expect(out).toEqual({ id: expect.any(String), epoch: 0, kind: "commit", mls: "AAEC", roster: { add: ["bob#im.bob.test"], remove: [] } });
  });

  it("refuses a submit with a non-normal address or non-canonical base64url", () => {
    expect(v.safeParse(SubmitSchema, { id: id(), epoch: 0, kind: "commit", mls: "AAEC", roster: { add: ["Bob#im.bob.test"] } }).success).toBe(false);
    expect(v.safeParse(SubmitSchema, { id: id(), epoch: 0, kind: "application", mls: "AB" }).success).toBe(false);
  });

  it("bounds an application message or proposal by maxMessageBytes and a commit by maxBodyBytes", () => {
    const submit = (kind: string, chars: number) => v.safeParse(SubmitSchema, { id: id(), epoch: 3, kind, mls: "A".repeat(chars) });
    // 87,382 base64url characters decode to 65,536 bytes.
    expect(submit("application", 87_382).success).toBe(true);
    expect(submit("application", 87_383).success).toBe(false);
    expect(submit("proposal", 87_383).success).toBe(false);
    const tooBig = submit("application", 87_383);
    expect(!tooBig.success && v.getDotPath(tooBig.issues[0])).toBe("mls");
    // An empty commit in a group of 60 devices is about 80 KB (X-Wing path secrets): it must go through.
    expect(submit("commit", 110_000).success).toBe(true);
    expect(submit("commit", 349_527).success).toBe(false);
  });

  it("keeps settings within 1..3650 days or null", () => {
    expect(v.safeParse(SettingsSchema, { strangers: "review", retentionDays: null }).success).toBe(true);
    expect(v.safeParse(SettingsSchema, { strangers: "review", retentionDays: 0 }).success).toBe(false);
    expect(v.safeParse(SettingsSchema, { strangers: "maybe", retentionDays: 5 }).success).toBe(false);
  });

  it("tells mail items and federation items apart by kind", () => {
    const bounce = { seq: 3, at: 1, kind: "bounce", ref: id(), to: "bob#im.bob.test", error: "stranger_refused" };
    expect(v.parse(MailItemSchema, bounce)).toEqual(bounce);
    expect(v.safeParse(FedItemSchema, { id: id(), kind: "conv_deliver", conversation: `im.a.test/${id()}`, to: [], item: {} }).success).toBe(false);
    expect(v.safeParse(ClientFrameSchema, { t: "ack", upTo: -1 }).success).toBe(false);
  });
});
