import { browser } from "wxt/browser";
import type { ClientService } from "./client-service.js";

const ICON = "/icon-192.png";

/** System notifications for what arrives while no EMSG page is open: messages and friend requests. */
export function notifyArrivals(service: ClientService): void {
  service.client.on("message", (message) => {
    if (message.direction !== "in") return;
    void browser.notifications.create(`emsg-msg-${message.id}`, { type: "basic", iconUrl: ICON, title: message.from, message: message.text.slice(0, 200) });
  });
  service.client.on("friend", (friend) => {
    if (friend.state === "incoming" || friend.state === "held") {
      void browser.notifications.create(`emsg-friend-${friend.address}`, { type: "basic", iconUrl: ICON, title: "EMSG friend request", message: `${friend.address} wants to be your EMSG friend.` });
    } else if (friend.state === "friend") {
      void browser.notifications.create(`emsg-friend-${friend.address}`, { type: "basic", iconUrl: ICON, title: "EMSG", message: `${friend.address} is now your EMSG friend.` });
    }
  });
}
