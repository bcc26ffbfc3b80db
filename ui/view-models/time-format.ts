import type { Locale, Translate } from "../i18n/translate.js";

const DAY = 86_400_000;

/** Midnight (local time) of the day holding `ms`. */
export function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

export function clockTime(ms: number, locale: Locale): string {
  return new Date(ms).toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
}

/** "Today", "Yesterday", a weekday within the last week, else a date (with year if not this year). */
export function dayLabel(ms: number, now: number, locale: Locale, t: Translate): string {
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 0) return t("conv.today");
  if (days === 1) return t("conv.yesterday");
  if (days > 1 && days < 7) return new Date(ms).toLocaleDateString(locale, { weekday: "long" });
  const withYear = new Date(ms).getFullYear() !== new Date(now).getFullYear();
  return new Date(ms).toLocaleDateString(locale, { day: "numeric", month: "long", ...(withYear ? { year: "numeric" } : {}) });
}

/** The short stamp a chat list shows: a clock time today, else the day. */
export function listStamp(ms: number, now: number, locale: Locale, t: Translate): string {
  if (sameDay(ms, now)) return clockTime(ms, locale);
  const days = Math.round((startOfDay(now) - startOfDay(ms)) / DAY);
  if (days === 1) return t("conv.yesterday");
  if (days < 7) return new Date(ms).toLocaleDateString(locale, { weekday: "short" });
  return new Date(ms).toLocaleDateString(locale, { day: "numeric", month: "short" });
}
