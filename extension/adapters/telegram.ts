import type { MessengerAdapter } from "./adapter.js";
import { keepEntryPoint } from "./entry-point.js";

/** Telegram Web (web.telegram.org/k/ and /a/): the left column header holds the menu and search. */
export const telegramAdapter: MessengerAdapter = {
  name: "Telegram",
  matches: (location) => location.hostname === "web.telegram.org",
  mount: (document, api) =>
    keepEntryPoint(
      document,
      {
        messenger: "Telegram",
        // Web K first, then Web A (web.telegram.org/a/), whose left header is a React component.
        anchors: ["#column-left .item-main .sidebar-header", "#column-left .sidebar-header", "#LeftColumn .LeftMainHeader"],
        position: "append",
      },
      api,
    ),
};
