import { browser } from "wxt/browser";
import { pickLocale, translator } from "../../ui/i18n/translate.js";
import type { ClientService } from "./client-service.js";
import { arrivalNotification } from "./views.js";

const ICON = "/icon-192.png";

/** System notifications for what arrives while no EMSG page is open: messages and friend requests. */
export function notifyArrivals(service: ClientService): void {
  const t = translator(pickLocale(navigator.languages));
  service.client.on("message", (message) => {
    if (message.direction !== "in" || message.notice) return;
    // The group's summary names it ("bob in Weekend"); without one the sender's address will do.
    void service.client
      .conversations()
      .then((all) => all.find((c) => c.conversation === message.conversation))
      .catch(() => undefined)
      .then((summary) => {
        const shown = arrivalNotification(message, summary, service.client.address, t);
        if (shown) return browser.notifications.create(`emsg-msg-${message.id}`, { type: "basic", iconUrl: ICON, title: shown.title, message: shown.body });
      });
  });
  service.client.on("friend", (friend) => {
    if (friend.state === "incoming" || friend.state === "held") {
      void browser.notifications.create(`emsg-friend-${friend.address}`, { type: "basic", iconUrl: ICON, title: "EMSG friend request", message: `${friend.address} wants to be your EMSG friend.` });
    } else if (friend.state === "friend") {
      void browser.notifications.create(`emsg-friend-${friend.address}`, { type: "basic", iconUrl: ICON, title: "EMSG", message: `${friend.address} is now your EMSG friend.` });
    }
  });
}
