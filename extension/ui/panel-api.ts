import { browser } from "wxt/browser";
import type { ChangedNotice } from "../messaging/messages.js";

export { ask } from "../messaging/page-api.js";

/** Calls `listener` whenever the background says something shown here changed. */
export function onChanged(listener: (what: ChangedNotice["what"], removed: string[]) => void): () => void {
  const handler = (message: unknown) => {
    const notice = message as ChangedNotice | null;
    if (notice?.type === "emsg-changed") listener(notice.what, notice.removed ?? []);
  };
  browser.runtime.onMessage.addListener(handler);
  return () => browser.runtime.onMessage.removeListener(handler);
}
