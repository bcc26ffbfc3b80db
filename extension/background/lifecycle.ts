import { browser } from "wxt/browser";
import type { ClientService } from "./client-service.js";

export const KEEPALIVE_ALARM = "emsg-keep-connected";

/**
 * MV3 stops an idle service worker and its WebSocket with it. An alarm every minute (the
 * shortest Chrome allows for a packed extension is 30 s) wakes it to reopen the mailbox
 * socket, so messages arrive within a minute even when nothing else is happening; a
 * dropped socket is retried at once. The same beat polls for requests held for review
 * (they never pass through the socket) and deletes expired messages.
 */
export function keepConnected(service: ClientService): void {
  void browser.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 1 });
  browser.alarms.onAlarm.addListener(async (alarm) => {
    if (alarm.name !== KEEPALIVE_ALARM) return;
    await service.keepConnected().catch(() => undefined);
    await service.sync().catch(() => undefined);
    if (await service.ready()) await service.client.expire().catch(() => undefined);
  });
  service.onChange((change) => {
    if (change === "connection" && service.connection() === "offline") setTimeout(() => void service.keepConnected().catch(() => undefined), 2_000);
  });
  void service.keepConnected().catch(() => undefined);
}
