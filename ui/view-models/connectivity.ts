import type { Locale, Translate } from "../i18n/translate.js";

/** `removed`: the server said this device was removed from its account; shown by its own screen, not the strip. */
export type LinkState = "offline" | "connecting" | "online" | "removed";

/** After "Link again" or "Remove EMSG from this device": where setup opens once the data here is gone. */
export type RemovedChoice = "link" | "welcome";

export interface Banner {
  tone: "warn" | "info";
  text: string;
}

/**
 * The strip at the top of the app: shown offline and while connecting, hidden when all is well.
 * `browserOnline` tells a dropped server connection (a restart, a network blip) from a browser
 * with no network at all: only the latter is "You are offline".
 */
export function connectivityBanner(state: LinkState, queued: number, domain: string, t: Translate, browserOnline: boolean): Banner | null {
  const waiting = queued > 0 ? ` · ${t("net.queued", { count: queued })}` : "";
  if (state === "offline") return { tone: "warn", text: (browserOnline ? t("net.lost", { domain }) : t("net.offline")) + waiting };
  if (state === "connecting") return { tone: "info", text: t("net.connecting", { domain }) + waiting };
  return null;
}

/** While the backlog the server sent on connecting is read: "Catching up… 3,200 of 10,000". */
export function catchUpBanner(progress: { done: number; total: number } | null, locale: Locale, t: Translate): Banner | null {
  if (!progress || progress.done >= progress.total) return null;
  const number = new Intl.NumberFormat(locale);
  return { tone: "info", text: t("net.catchingUp", { done: number.format(progress.done), total: number.format(progress.total) }) };
}
