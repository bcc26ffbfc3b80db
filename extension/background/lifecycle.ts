import { browser } from "wxt/browser";
import { logFailure } from "../../ui/view-models/log-failure.js";
import { reconnectDelay } from "../../ui/view-models/reconnect.js";
import type { ClientService } from "./client-service.js";

export const KEEPALIVE_ALARM = "emsg-keep-connected";

/**
 * MV3 stops an idle service worker and its WebSocket with it. An alarm every minute (the
 * shortest Chrome allows for a packed extension is 30 s) wakes it to reopen the mailbox
 * socket, so messages arrive within a minute even when nothing else is happening. While the
 * worker runs, a dropped socket or a failed attempt is retried at once with backoff (1 s,
 * doubling to 30 s), so a server restart costs seconds, not the rest of the minute. The same
 * beat polls for requests held for review (they never pass through the socket) and deletes
 * expired messages.
 */
export function keepConnected(service: ClientService): void {
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retryLater = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, reconnectDelay(attempt++));
  };
  const connect = async (): Promise<void> => {
    await service.keepConnected().catch(logFailure("not connected; trying again shortly"));
    if (service.client.connected || !(await service.ready())) attempt = 0;
    else retryLater();
  };

  void browser.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 1 });
  browser.alarms.onAlarm.addListener(async (alarm) => {
    if (alarm.name !== KEEPALIVE_ALARM) return;
    await connect();
    await service.sync().catch(logFailure("nothing fetched this minute; the next alarm tries again"));
    await service.expire().catch(logFailure("old messages are removed at the next alarm"));
  });
  service.onChange((change) => {
    if (change === "connection" && service.connection() === "offline") retryLater();
  });
  void connect();
}
