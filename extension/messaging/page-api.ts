import { browser } from "wxt/browser";
import type { Reply, ReplyOf, Request } from "./messages.js";

/** Sends one request to the background; a missing or broken background becomes a plain reply. */
export async function ask<R extends Request>(request: R): Promise<ReplyOf[R["type"]]> {
  type Answer = ReplyOf[R["type"]];
  const unavailable = (message: string): Reply<never> => ({ ok: false, error: "unavailable", message });
  try {
    const reply = (await browser.runtime.sendMessage(request)) as Answer | undefined;
    return reply ?? (unavailable("EMSG did not answer; try again.") as Answer);
  } catch {
    // The extension was updated or reloaded under this page: its old content script is orphaned.
    return unavailable("EMSG was updated; reload this page.") as Answer;
  }
}

/** What a content script may do: ask the background, never touch keys, servers or the friend list. */
export interface EmsgPageApi {
  addFriend(address: string): Promise<ReplyOf["add-friend"]>;
  openPanel(): Promise<ReplyOf["open-panel"]>;
}

export const runtimePageApi: EmsgPageApi = {
  addFriend: (address) => ask({ type: "add-friend", address }),
  openPanel: () => ask({ type: "open-panel" }),
};
