import { browser } from "wxt/browser";
import type { Address } from "../../shared/address.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import type { LinkState } from "../../ui/view-models/connectivity.js";
import type { SafetyContext } from "../../ui/view-models/safety-model.js";
import { type ChatMark, LocalRecords } from "../../ui/view-models/local-records.js";
import { ExtensionStore } from "../platform/extension-store.js";
import { answered } from "./group-requests.js";
import { locale, t } from "./i18n.js";
import { ask } from "./panel-api.js";
import { type PanelClient, remoteClient } from "./remote-client.js";

/** This device's records, as the panel changes them: a chat muted or unmuted changes the toolbar badge's count. */
class PanelRecords extends LocalRecords {
  override async setMarked(mark: ChatMark, chat: string, on: boolean): Promise<void> {
    await super.setMarked(mark, chat, on);
    answered(await ask({ type: "marks-changed" }));
  }
}

/** The chats', safety dialog's and friend list's context, over one client. */
export type PanelContext = ChatContext & SafetyContext & { readonly client: PanelClient };

/**
 * What the shared view models work with in the panel and popup: the core through the background,
 * and this device's own records (drafts, pinned and muted chats, starred messages, keys seen and
 * verified) in the extension's storage, where the background reads the muted ones before it notifies.
 * `favoritesChanged`: a star changed in a chat, so the starred list reads them again.
 */
export function chatContext(self: Address, link: () => LinkState, favoritesChanged: () => void): PanelContext {
  return {
    client: remoteClient(self),
    records: new PanelRecords(new ExtensionStore(browser.storage.local)),
    locale,
    t,
    get link() {
      return link();
    },
    now: () => Date.now(),
    favoritesChanged,
    runExpiry: async () => answered(await ask({ type: "expire" })).removed,
    ownAccountKey: async () => answered(await ask({ type: "account-key" })).accountKey,
  };
}
