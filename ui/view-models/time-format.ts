import type { Locale, Translate } from "../i18n/translate.js";

const DAY = 86_400_000;

/**
 * The tag dates and times are formatted with: the browser's own locale when it is of the chosen
 * language, so English under an en-GB browser reads "15:04, 5 January" and not the US "3:04 PM,
 * January 5"; else the chosen language itself.
 */
export function formatLocale(locale: string, browser = ownLocale()): string {
  return browser.split("-")[0]!.toLowerCase() === locale.split("-")[0]!.toLowerCase() ? browser : locale;
}

// The browser's locale, and a clock format per tag, made once: making them for each time shown
// cost ~0.1 ms each, and a chat list shows a time per chat each time it is drawn.
let browserLocale: string | undefined;
const ownLocale = () => (browserLocale ??= new Intl.DateTimeFormat().resolvedOptions().locale);
const clocks = new Map<string, Intl.DateTimeFormat>();

/** Midnight (local time) of the day holding `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

export function clockTime(ms: number, locale: Locale, browser?: string): string {
  const tag = formatLocale(locale, browser);
  let clock = clocks.get(tag);
  if (!clock) clocks.set(tag, (clock = new Intl.DateTimeFormat(tag, { timeStyle: "short" })));
  return clock.format(ms);
}

/** "Today", "Yesterday", a weekday within the last week, else a date (with year if not this year). */
export function dayLabel(ms: number, now: number, locale: Locale, t: Translate): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 0) return t("conv.today");
  if (days === 1) return t("conv.yesterday");
  if (days > 1 && days < 7) return new Date(ms).toLocaleDateString(formatLocale(locale), { weekday: "long" });
  const withYear = new Date(ms).getFullYear() !== new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(formatLocale(locale), { day: "numeric", month: "long", ...(withYear ? { year: "numeric" } : {}) });
}

/** The short stamp a chat list shows: a clock time today, else the day. */
export function listStamp(ms: number, now: number, locale: Locale, t: Translate): string {
  if (sameDay(ms, now)) return clockTime(ms, locale);
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 1) return t("conv.yesterday");
  if (days < 7) return new Date(ms).toLocaleDateString(formatLocale(locale), { weekday: "short" });
  return new Date(ms).toLocaleDateString(formatLocale(locale), { day: "numeric", month: "short" });
}
