import { browser } from "wxt/browser";
import { logFailure } from "../../ui/view-models/log-failure.js";
import type { ClientService } from "./client-service.js";

/** How long changes gather before the total is counted again: a backlog read marks many chats. */
const GATHER_MS = 200;

/** The toolbar badge for `total` unread messages: nothing at none, and "99+" past what it has room for. */
export function badgeText(total: number): string {
  return total <= 0 ? "" : total > 99 ? "99+" : String(total);
}

/** The unread messages of every chat, or none without an account. */
export async function unreadTotal(service: ClientService): Promise<number> {
  if (!(await service.ready())) return 0;
  return (await service.client.conversations()).reduce((sum, chat) => sum + chat.unread, 0);
}

/**
 * Keeps the toolbar icon's badge at the total of unread messages: counted when the worker starts,
 * and again as chats change (a message arrives, a chat is read, expiry removes some, the account goes).
 */
export function showUnreadBadge(service: ClientService, setText: (text: string) => Promise<void> = (text) => browser.action.setBadgeText({ text })): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const count = () => {
    timer = undefined;
    void unreadTotal(service)
      .then((total) => setText(badgeText(total)))
      .catch(logFailure("the badge shows the unread count at the next change"));
  };
  const recount = () => void (timer ??= setTimeout(count, GATHER_MS));
  service.client.on("conversation", recount);
  service.onChange((change) => (change === "messages" || change === "account") && recount());
  recount();
}
