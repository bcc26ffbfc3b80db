import type { Translate } from "../i18n/translate.js";

export type LinkState = "offline" | "connecting" | "online";

export interface Banner {
  tone: "warn" | "info";
  text: string;
}

/** The strip at the top of the app: shown offline and while connecting, hidden when all is well. */
export function connectivityBanner(state: LinkState, queued: number, domain: string, t: Translate): Banner | null {
  const waiting = queued > 0 ? ` · ${t("net.queued", { count: queued })}` : "";
  if (state === "offline") return { tone: "warn", text: t("net.offline") + waiting };
  if (state === "connecting") return { tone: "info", text: t("net.connecting", { domain }) + waiting };
  return null;
}
