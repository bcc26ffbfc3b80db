import { pickLocale, translator } from "../../ui/i18n/translate.js";

/** The PWA's strings and locale choice: both clients speak the same words. */
export const locale = pickLocale(navigator.languages);
export const t = translator(locale);
