import type { MessengerAdapter } from "./adapter.js";
import { keepEntryPoint } from "./entry-point.js";

/** WhatsApp Web: the header above the chat list in the `#side` column. */
export const whatsappAdapter: MessengerAdapter = {
  name: "WhatsApp",
  matches: (location) => location.hostname === "web.whatsapp.com",
  mount: (document, api) =>
    keepEntryPoint(
      document,
      {
        messenger: "WhatsApp",
        anchors: ["#side header", "#app header"],
        position: "append",
      },
      api,
    ),
};
