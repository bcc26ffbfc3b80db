import { browser } from "wxt/browser";
import { findAddresses } from "../../shared/address-detect.js";
import { parseAddress, type Address } from "../../shared/address.js";
import type { Translate } from "../../ui/i18n/translate.js";
import { friendRequestProblem } from "../../ui/view-models/error-text.js";
import type { ReplyOf } from "../messaging/messages.js";

export const MENU_ID = "emsg-add-friend";

export function createContextMenu(t: Translate): void {
  browser.contextMenus.create({ id: MENU_ID, title: t("menu.addFriend"), contexts: ["selection"] });
}

/** The address in a selection: the selection itself, or the first address found inside it. */
export function addressInSelection(selection: string): Address | null {
  try {
    return parseAddress(selection).address;
  } catch {
    return findAddresses(selection, { max: 1 })[0]?.address ?? null;
  }
}

/**
 * What the notification says once the menu item was chosen on a selection: no address in it, or
 * the answer to adding `address` (waiting for EMSG's setup, sent, or why not), in the user's language.
 */
export function menuNotice(t: Translate, address: Address | null, reply?: ReplyOf["add-friend"]): string {
  if (!address) return t("menu.noAddress");
  if (!reply?.ok) return friendRequestProblem(reply ?? "internal", address, t);
  return reply.state === "queued" ? t("menu.queued", { address }) : t("menu.sent", { address });
}
