import { describe, expect, it } from "vitest";
import { en } from "../../ui/i18n/en.js";
import { zhCN } from "../../ui/i18n/zh-CN.js";
import { pickLocale, translator } from "../../ui/i18n/translate.js";
import { safetyRows, verifyQrSvg } from "../../ui/view-models/safety-number-view.js";
import type { Address } from "../../shared/address.js";
import { noticeText } from "../../ui/view-models/group-notice.js";
import type { GroupLabels } from "../../ui/view-models/sender-label.js";

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

  it("sets no space between Chinese words a sentence is built from, and keeps it beside a Latin name", () => {
    const ALICE = "alice#im.alice.test" as Address;
    const CAROL = "carol#im.bob.test" as Address;
    const ZHANG = "zhang#im.bob.test" as Address;
    const names: Record<string, string> = { [CAROL]: "carol", [ZHANG]: "张三" };
    const group: GroupLabels = { self: ALICE, label: (a) => ({ name: names[a]!, colour: 0 }) as never };
    const zh = (notice: Parameters<typeof noticeText>[0]) => noticeText(notice, group, "zh-CN", translator("zh-CN"));
    expect(zh({ type: "created", by: ALICE })).toBe("你创建了群组");
    expect(zh({ type: "removed", by: ALICE, who: [CAROL] })).toBe("你移除了 carol");
    expect(zh({ type: "added", by: CAROL, who: [ALICE] })).toBe("carol 添加了你");
    expect(zh({ type: "left", by: ZHANG })).toBe("张三退出了群组");
    expect(zh({ type: "timer", by: ALICE, days: 7 })).toBe("你将消息设为 7 天后消失");
    // A space inside a value is the value's own.
    expect(zh({ type: "renamed", by: ALICE, title: "周六 露营" })).toBe("你将群组重命名为“周六 露营”");
    expect(noticeText({ type: "created", by: ZHANG }, group, "en", translator("en"))).toBe("张三 created the group");
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
