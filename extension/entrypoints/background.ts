import { browser } from "wxt/browser";
import { defineBackground } from "wxt/utils/define-background";
import { ClientService } from "../background/client-service.js";
import { addressInSelection, createContextMenu, MENU_ID, menuNotice } from "../background/context-menu.js";
import { keepConnected } from "../background/lifecycle.js";
import { notifyArrivals } from "../background/notifier.js";
import { openPanel } from "../background/panel.js";
import { showUnreadBadge } from "../background/unread-badge.js";
import { fromOwnPage, handleRequest, type Self } from "../background/requests.js";
import { serveFilePorts, serveFileTransfers } from "../background/file-transfers.js";
import { FORWARDED_EVENTS, type ChangedNotice, type EventNotice, type NoticesMessage, type ReplyOf } from "../messaging/messages.js";
import { pickLocale, translator } from "../../ui/i18n/translate.js";
import { PageAudience } from "../messaging/page-audience.js";
import { logFailure } from "../../ui/view-models/log-failure.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";
import { fetchTransport } from "../platform/fetch-transport.js";
import { ExtensionStore } from "../platform/extension-store.js";
import { uploadsDatabase } from "../platform/uploads-database.js";
import { IdbKeptUploads } from "../../ui/platform/kept-uploads.js";

// The only place keys live: the extension's IndexedDB (extension-store.ts), read by the client core in this service worker.
// A classic (not module) worker on purpose: WXT then builds it as one file, and a service
// worker may not import() at run time, which is how ts-mls loads its ciphers.
export default defineBackground({
  main() {
    const store = new ExtensionStore(browser.storage.local);
    const service = new ClientService(store, fetchTransport, new IdbKeptUploads(uploadsDatabase()));
    const runtime = browser.runtime as unknown as { getURL(path: string): string };
    const self: Self = { id: browser.runtime.id, origin: runtime.getURL("/") };
    const ctx = { service, openPanel };
    const t = translator(pickLocale(navigator.languages));

    browser.runtime.onInstalled.addListener(() => createContextMenu(t));
    // Notices for the extension's pages, only while one may listen, a turn's in one message.
    const pages = new PageAudience<ChangedNotice | EventNotice>(
      (notices) => browser.runtime.sendMessage({ type: "emsg-notices", notices } satisfies NoticesMessage),
      logFailure("an open EMSG page shows the change on its next refresh"),
    );
    browser.runtime.onMessage.addListener((message, sender, sendResponse) => {
      if (fromOwnPage(sender, self)) pages.pageSpoke();
      handleRequest(message, sender, self, ctx).then(sendResponse);
      return true;
    });
    service.onChange((what, removed) => what !== "marks" && pages.tell({ type: "emsg-changed", what, ...(removed ? { removed } : {}) }));
    for (const event of FORWARDED_EVENTS) service.on(event, (payload) => pages.tell({ type: "emsg-event", event, payload }));
    serveFileTransfers(globalThis as unknown as Parameters<typeof serveFileTransfers>[0], self.origin, service);
    serveFilePorts(browser.runtime as unknown as Parameters<typeof serveFilePorts>[0], self.origin, service);

    browser.contextMenus.onClicked.addListener(async (info) => {
      if (info.menuItemId !== MENU_ID) return;
      const address = addressInSelection(info.selectionText ?? "");
      const reply = address ? ((await handleRequest({ type: "add-friend", address }, { id: self.id, url: self.origin }, self, ctx)) as ReplyOf["add-friend"]) : undefined;
      await browser.notifications.create({ type: "basic", iconUrl: "/icon-192.png", title: "EMSG", message: menuNotice(t, address, reply) });
    });

    const records = new LocalRecords(store);
    notifyArrivals(service, records);
    showUnreadBadge(service, records);
    keepConnected(service);
  },
});
