import { browser } from "wxt/browser";
import type { ClientEvents } from "../../shared/client/index.js";
import type { ChangedNotice, EventNotice, NoticesMessage } from "../messaging/messages.js";

export { ask } from "../messaging/page-api.js";

/** Calls `listener` with each notice the background sends its pages, in order. */
export function onNotice(listener: (notice: ChangedNotice | EventNotice) => void): () => void {
  const handler = (message: unknown) => {
    const sent = message as NoticesMessage | null;
    if (sent?.type === "emsg-notices") for (const notice of sent.notices) listener(notice);
  };
  browser.runtime.onMessage.addListener(handler);
  return () => browser.runtime.onMessage.removeListener(handler);
}

/** Calls `listener` whenever the background says something shown here changed. */
export function onChanged(listener: (what: ChangedNotice["what"], removed: string[]) => void): () => void {
  return onNotice((notice) => {
    if (notice.type === "emsg-changed") listener(notice.what, notice.removed ?? []);
  });
}

/** Calls `listener` with how far the background is in reading a backlog (over the socket or polled). */
export function onCatchUp(listener: (progress: ClientEvents["catchUp"]) => void): () => void {
  return onNotice((notice) => {
    if (notice.type === "emsg-event" && notice.event === "catchUp") listener(notice.payload as ClientEvents["catchUp"]);
  });
}
