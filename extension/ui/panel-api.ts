import { browser } from "wxt/browser";
import type { ChangedNotice } from "../messaging/messages.js";

export { ask } from "../messaging/page-api.js";

/** Calls `listener` whenever the background says something shown here changed. */
export function onChanged(listener: (what: ChangedNotice["what"]) => void): () => void {
  const handler = (message: unknown) => {
    if ((message as ChangedNotice | null)?.type === "emsg-changed") listener((message as ChangedNotice).what);
  };
  browser.runtime.onMessage.addListener(handler);
  return () => browser.runtime.onMessage.removeListener(handler);
}
