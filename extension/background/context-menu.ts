import { browser } from "wxt/browser";
import { findAddresses } from "../../shared/address-detect.js";
import { parseAddress, type Address } from "../../shared/address.js";

export const MENU_ID = "emsg-add-friend";

export function createContextMenu(): void {
  browser.contextMenus.create({ id: MENU_ID, title: "Add as EMSG friend", contexts: ["selection"] });
}

/** The address in a selection: the selection itself, or the first address found inside it. */
export function addressInSelection(selection: string): Address | null {
  try {
    return parseAddress(selection).address;
  } catch {
    return findAddresses(selection, { max: 1 })[0]?.address ?? null;
  }
}
