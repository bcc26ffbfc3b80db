import { browser } from "wxt/browser";
import { pickLocale, translator, type Translate } from "../../ui/i18n/translate.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { logFailure } from "../../ui/view-models/log-failure.js";
import type { LocalRecords } from "../../ui/view-models/local-records.js";
import { arrivalNotification, requestNotification } from "../../ui/view-models/notification-policy.js";
import type { ClientService } from "./client-service.js";

const ICON = "/icon-192.png";
/** How long arrivals gather before they are shown: a burst raises one notification per chat, for its latest message. */
const GATHER_MS = 300;

/** System notifications for what arrives while no EMSG page is open: messages and friend requests. */
export function notifyArrivals(service: ClientService, records: LocalRecords): void {
  const t = translator(pickLocale(navigator.languages));
  // Each chat's latest arrival not shown yet. A backlog's messages are shown once it is read, one per
  // chat: a notification each (its icon loaded anew, every conversation listed for its title) was
  // most of a catch-up's CPU, and a chat's replaces the one before anyway.
  const waiting = new Map<string, MessageRecord>();
  let backlog = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const showWaiting = () => {
    timer = undefined;
    if (backlog || waiting.size === 0) return;
    const latest = [...waiting.values()];
    waiting.clear();
    void notifyMessages(service, records, latest, t);
  };
  const gather = () => void (timer ??= setTimeout(showWaiting, GATHER_MS));
  service.on("catchUp", ({ done, total }) => {
    backlog = done < total;
    if (!backlog) gather();
  });
  // A backlog cut off by a lost connection is not waited for.
  service.on("connection", ({ state }) => {
    if (state === "online") return;
    backlog = false;
    gather();
  });
  service.on("message", (message) => {
    if (message.direction !== "in" || message.notice) return;
    waiting.delete(message.conversation);
    waiting.set(message.conversation, message);
    gather();
  });
  service.on("friend", (friend) => {
    const request = requestNotification(friend, t);
    if (request) void show(`emsg-friend-${friend.address}`, request.title, request.body);
    else if (friend.state === "friend") void show(`emsg-friend-${friend.address}`, "EMSG", t("notify.accepted", { address: friend.address }));
  });
}

/** Each chat's latest message as its notification, which takes the place of the chat's one before (as the PWA's tag does). */
async function notifyMessages(service: ClientService, records: LocalRecords, latest: MessageRecord[], t: Translate): Promise<void> {
  // A muted chat (marked in the panel, kept in the same storage) still counts unread, silently.
  const muted = await Promise.all(latest.map((message) => records.isMarked("muted", message.conversation)));
  const shown = latest.filter((_, i) => !muted[i]);
  if (shown.length === 0) return;
  // The group's summary names it ("bob in Weekend"); without one the sender's address will do.
  const summaries = await service.client.conversations().catch((error: unknown) => void logFailure("the notification names the sender, not the chat")(error));
  for (const message of shown) {
    const text = arrivalNotification(message, summaries?.find((c) => c.conversation === message.conversation), service.client.address, t);
    if (text) await show(`emsg-msg-${message.conversation}`, text.title, text.body);
  }
}

/** A notification the browser refused (permission taken back, say) is logged; the message stays in the chat. */
async function show(id: string, title: string, message: string): Promise<void> {
  await browser.notifications.create(id, { type: "basic", iconUrl: ICON, title, message }).catch(logFailure("no notification shown"));
}
