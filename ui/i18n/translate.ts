import { en, type MessageKey } from "./en.js";
import { zhCN } from "./zh-CN.js";

export type Locale = "en" | "zh-CN";
export const LOCALES: readonly { id: Locale; label: string }[] = [
  { id: "en", label: "English" },
  { id: "zh-CN", label: "简体中文" },
];

const TABLES: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** Chinese characters and full-width punctuation: Chinese sets no space between them. */
const CJK = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;
const cjk = (char: string | undefined) => char !== undefined && CJK.test(char);

/**
 * Returns a translator for one locale; unknown `{names}` stay visible so a gap is noticed, not hidden.
 * A space the sentence puts beside a value goes when Chinese stands on both sides of it: "你创建了群组",
 * "将消息设为 1 天后消失", while a Latin name keeps its space ("carol 创建了群组"). Spaces inside a
 * value (a group's name, a message) are the value's own and stay.
 */
export function translator(locale: Locale): Translate {
  const table = TABLES[locale];
  return (key, values) => {
    // Even pieces are the sentence's own text, odd ones the names of values.
    const pieces = table[key].split(/\{(\w+)\}/);
    let out = pieces[0]!;
    for (let i = 1; i < pieces.length; i += 2) {
      const name = pieces[i]!;
      const value = [...(values && name in values ? String(values[name]) : `{${name}}`)];
      if (out.endsWith(" ") && cjk([...out].at(-2)) && cjk(value[0])) out = out.slice(0, -1);
      const after = pieces[i + 1]!;
      out += value.join("") + (after.startsWith(" ") && cjk(value.at(-1)) && cjk(after[1]) ? after.slice(1) : after);
    }
    return out;
  };
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
