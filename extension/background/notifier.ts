import { browser } from "wxt/browser";
import { pickLocale, translator, type Translate } from "../../ui/i18n/translate.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { logFailure } from "../../ui/view-models/log-failure.js";
import type { LocalRecords } from "../../ui/view-models/local-records.js";
import { arrivalNotification, requestNotification } from "../../ui/view-models/notification-policy.js";
import type { ClientService } from "./client-service.js";

const ICON = "/icon-192.png";

/** System notifications for what arrives while no EMSG page is open: messages and friend requests. */
export function notifyArrivals(service: ClientService, records: LocalRecords): void {
  const t = translator(pickLocale(navigator.languages));
  service.client.on("message", (message) => {
    if (message.direction === "in" && !message.notice) void notifyMessage(service, records, message, t);
  });
  service.client.on("friend", (friend) => {
    const request = requestNotification(friend, t);
    if (request) void show(`emsg-friend-${friend.address}`, request.title, request.body);
    else if (friend.state === "friend") void show(`emsg-friend-${friend.address}`, "EMSG", t("notify.accepted", { address: friend.address }));
  });
}

async function notifyMessage(service: ClientService, records: LocalRecords, message: MessageRecord, t: Translate): Promise<void> {
  // A muted chat (marked in the panel, kept in the same storage) still counts unread, silently.
  if (await records.isMarked("muted", message.conversation)) return;
  // The group's summary names it ("bob in Weekend"); without one the sender's address will do.
  const summary = await service.client.conversations().then(
    (all) => all.find((c) => c.conversation === message.conversation),
    (error: unknown) => void logFailure("the notification names the sender, not the chat")(error),
  );
  const shown = arrivalNotification(message, summary, service.client.address, t);
  if (shown) await show(`emsg-msg-${message.id}`, shown.title, shown.body);
}

/** A notification the browser refused (permission taken back, say) is logged; the message stays in the chat. */
async function show(id: string, title: string, message: string): Promise<void> {
  await browser.notifications.create(id, { type: "basic", iconUrl: ICON, title, message }).catch(logFailure("no notification shown"));
}
