import { browser } from "wxt/browser";
import { friendChats } from "../../ui/view-models/friend-chats.js";
import type { LocalRecords } from "../../ui/view-models/local-records.js";
import { logFailure } from "../../ui/view-models/log-failure.js";
import type { ClientService } from "./client-service.js";

/** How long changes gather before the total is counted again: a backlog read marks many chats. */
const GATHER_MS = 200;

/** The toolbar badge for `total` unread messages: nothing at none, and "99+" past what it has room for. */
export function badgeText(total: number): string {
  return total <= 0 ? "" : total > 99 ? "99+" : String(total);
}

/** The unread messages of every chat not muted on this device (as the chat list marks them), or none without an account. */
export async function unreadTotal(service: ClientService, records: Pick<LocalRecords, "marked">): Promise<number> {
  if (!(await service.ready())) return 0;
  const muted = await records.marked("muted");
  return friendChats(await service.client.conversations()).chats.reduce((sum, chat) => sum + (muted.has(chat.conversation) ? 0 : chat.unread), 0);
}

/**
 * Keeps the toolbar icon's badge at the total of unread messages outside muted chats: counted when
 * the worker starts, and again as chats change (a message arrives, a chat is read, expiry removes
 * some, the account goes, a chat is muted or unmuted).
 */
export function showUnreadBadge(
  service: ClientService,
  records: Pick<LocalRecords, "marked">,
  setText: (text: string) => Promise<void> = (text) => browser.action.setBadgeText({ text }),
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const count = () => {
    timer = undefined;
    void unreadTotal(service, records)
      .then((total) => setText(badgeText(total)))
      .catch(logFailure("the badge shows the unread count at the next change"));
  };
  const recount = () => void (timer ??= setTimeout(count, GATHER_MS));
  service.client.on("conversation", recount);
  service.onChange((change) => (change === "messages" || change === "account" || change === "marks") && recount());
  recount();
}
