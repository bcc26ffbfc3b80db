import { describe, expect, it } from "vitest";
import { en } from "../../ui/i18n/en.js";
import { zhCN } from "../../ui/i18n/zh-CN.js";
import { pickLocale, translator } from "../../ui/i18n/translate.js";
import { safetyRows, verifyQrSvg } from "../../ui/view-models/safety-number-view.js";
import type { Address } from "../../shared/address.js";

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
  it("lays 12 groups out in 3 rows of 4", () => {
    const groups = Array.from({ length: 12 }, (_, i) => String(i).padStart(5, "0"));
    expect(safetyRows(groups)).toEqual([groups.slice(0, 4), groups.slice(4, 8), groups.slice(8, 12)]);
  });

  it("draws the protocol's verify code as a dark-on-white SVG QR code", () => {
    const svg = verifyQrSvg("bob#im.bob.test" as Address, "A".repeat(43));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("#111111");
    expect(svg).toContain("#ffffff");
  });
});
