import { describe, expect, it } from "vitest";
import { translator } from "../../ui/i18n/translate.js";
import { clockTime, dayLabel, formatLocale } from "../../ui/view-models/time-format.js";

// 5 January 2026, 15:04 local time: far from today, so dayLabel shows a date.
const at = new Date(2026, 0, 5, 15, 4).getTime();
const now = new Date(2026, 5, 1, 12, 0).getTime();

describe("dates and times follow the browser's region within the chosen language", () => {
  it("shows English under an en-GB browser with a 24-hour clock and the day before the month", () => {
    expect(formatLocale("en", "en-GB")).toBe("en-GB");
    expect(clockTime(at, "en", "en-GB")).toBe("15:04");
    expect(new Date(at).toLocaleDateString(formatLocale("en", "en-GB"), { day: "numeric", month: "long" })).toBe("5 January");
  });

  it("keeps US formats under an en-US browser, and the chosen language's own when the browser speaks another", () => {
    expect(clockTime(at, "en", "en-US")).toBe("3:04 PM");
    expect(formatLocale("zh-CN", "en-GB")).toBe("zh-CN");
    expect(clockTime(at, "zh-CN", "en-GB")).toBe("15:04");
    expect(formatLocale("en", "zh-CN")).toBe("en");
  });

  it("labels an old day in the runtime's region when it speaks the chosen language", () => {
    const label = dayLabel(at, now, "en", translator("en"));
    expect(label).toBe(new Date(at).toLocaleDateString(formatLocale("en"), { day: "numeric", month: "long" }));
  });
});
