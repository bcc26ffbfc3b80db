import { browser } from "wxt/browser";
import { defineBackground } from "wxt/utils/define-background";
import { SetupPendingHost } from "../background/account-host.js";
import { addressInSelection, createContextMenu, MENU_ID } from "../background/context-menu.js";
import { openPanel } from "../background/panel.js";
import { handleRequest } from "../background/requests.js";
import { ExtensionStore } from "../platform/chrome-storage-store.js";

export default defineBackground({
  type: "module",
  main() {
    const store = new ExtensionStore(browser.storage.local);
    const host = new SetupPendingHost(store);

    browser.runtime.onInstalled.addListener(createContextMenu);

    browser.runtime.onMessage.addListener((message, sender, sendResponse) => {
      handleRequest(message, sender, browser.runtime.id, { host, openPanel }).then(sendResponse);
      return true;
    });

    browser.contextMenus.onClicked.addListener(async (info) => {
      if (info.menuItemId !== MENU_ID) return;
      const address = addressInSelection(info.selectionText ?? "");
      const title = "EMSG";
      if (!address) {
        await browser.notifications.create({ type: "basic", iconUrl: "/icon-192.png", title, message: "The selection holds no EMSG address (name#server)." });
        return;
      }
      const reply = await handleRequest({ type: "add-friend", address }, { id: browser.runtime.id }, browser.runtime.id, { host, openPanel });
      const message = reply.ok ? `${address}: ${"state" in reply && reply.state === "queued" ? "will be added once EMSG is set up." : "friend request sent."}` : reply.message;
      await browser.notifications.create({ type: "basic", iconUrl: "/icon-192.png", title, message });
    });
  },
});
