import { browser } from "wxt/browser";
import type { ClientEvents } from "../../shared/client/index.js";
import type { ChangedNotice, EventNotice } from "../messaging/messages.js";

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

/** Calls `listener` with how far the background is in reading a backlog (over the socket or polled). */
export function onCatchUp(listener: (progress: ClientEvents["catchUp"]) => void): () => void {
  const handler = (message: unknown) => {
    const notice = message as EventNotice | null;
    if (notice?.type === "emsg-event" && notice.event === "catchUp") listener(notice.payload as ClientEvents["catchUp"]);
  };
  browser.runtime.onMessage.addListener(handler);
  return () => browser.runtime.onMessage.removeListener(handler);
}
