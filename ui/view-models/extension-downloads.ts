import type { MessageKey } from "../i18n/en.js";

/**
 * The browser extension's packages, built by `npm run build` and served by this domain's Worker
 * (see extension/wxt.config.ts for the names).
 */
export const EXTENSION_DOWNLOADS: readonly { browser: "chrome" | "firefox"; label: MessageKey; file: string }[] = [
  { browser: "chrome", label: "settings.extensionChrome", file: "emsg-extension-chrome.zip" },
  { browser: "firefox", label: "settings.extensionFirefox", file: "emsg-extension-firefox.zip" },
];
