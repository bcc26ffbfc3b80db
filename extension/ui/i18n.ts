import { pickLocale, translator } from "../../ui/i18n/translate.js";

/** The strings and locale choice the PWA uses too (ui/i18n): both clients speak the same words. */
export const locale = pickLocale(navigator.languages);
export const t = translator(locale);
