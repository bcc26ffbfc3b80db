import type { Self } from "../../extension/background/requests.js";

// Who a message to the extension's background comes from, as Chrome names senders: its own pages
// (the side panel) and a web page's content script, which carries the tab.
export const OWN = "emsg-extension-id";
export const SELF: Self = { id: OWN, origin: "chrome-extension://emsg-extension-id/" };
export const PANEL = { id: OWN, url: `${SELF.origin}sidepanel.html` };
export const PAGE = { id: OWN, url: "https://example.com/contact", tab: { id: 7 } };
