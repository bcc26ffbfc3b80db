import { describe, expect, it } from "vitest";
import { en } from "../../pwa/src/i18n/en.js";
import { zhCN } from "../../pwa/src/i18n/zh-CN.js";
import { pickLocale, translator } from "../../pwa/src/i18n/translate.js";
import { safetyGroups, safetyRows, verifyPayload, verifyQrSvg } from "../../pwa/src/view-models/safety-number-view.js";

describe("languages", () => {
  it("translates every English string into Chinese with the same placeholders", () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(zhCN[key], key).toBeTruthy();
      expect(names(zhCN[key]), key).toEqual(names(en[key]));
    }
  });

  it("fills values into a sentence in either language", () => {
    expect(translator("en")("chats.unread", { count: 3 })).toBe("3 unread");
    expect(translator("zh-CN")("chats.unread", { count: 3 })).toBe("3 条未读");
  });

  it("picks Simplified Chinese for any zh browser language and English otherwise", () => {
    expect(pickLocale(["zh-TW", "en"])).toBe("zh-CN");
    expect(pickLocale(["fr", "en-GB"])).toBe("en");
    expect(pickLocale(["fr"])).toBe("en");
  });
});

describe("safety number display", () => {
  const digits = "012345678901234567890123456789987654321098765432109876543210";

  it("shows 60 digits as 12 groups of 5 in 3 rows", () => {
    const groups = safetyGroups(digits);
    expect(groups).toHaveLength(12);
    expect(groups[0]).toBe("01234");
    expect(safetyRows(groups).map((r) => r.length)).toEqual([4, 4, 4]);
    expect(() => safetyGroups("123")).toThrow();
  });

  it("encodes the protocol's verify payload as an SVG QR code", () => {
    expect(verifyPayload("bob#im.bob.test", "KEY")).toBe("emsg-verify:1:bob#im.bob.test:KEY");
    const svg = verifyQrSvg("bob#im.bob.test", "A".repeat(43));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("#111111");
  });
});
