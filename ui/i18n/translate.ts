import { en, type MessageKey } from "./en.js";
import { zhCN } from "./zh-CN.js";

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly { id: Locale; label: string }[] = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];

const TABLES: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** Returns a translator for one locale; unknown `{names}` stay visible so a gap is noticed, not hidden. */
export function translator(locale: Locale): Translate {
  const table = TABLES[locale];
  return (key, values) =>
    table[key].replace(/\{(\w+)\}/g, (whole, name: string) => (values && name in values ? String(values[name]) : whole));
}

/** Picks the first supported language the browser prefers; Chinese variants fall to 简体中文. */
export function pickLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function isLocale(value: unknown): value is Locale {
  return value === "en" || value === "zh-CN";
}
