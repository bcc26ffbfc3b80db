import type { MessengerAdapter } from "./adapter.js";
import { keepEntryPoint } from "./entry-point.js";

/** Converse.js runs embedded in any site, so it is recognized by its root element, not its host. */
export const converseAdapter: MessengerAdapter = {
  name: "Converse.js",
  matches: (_location, document) => document.querySelector("converse-root, #conversejs") !== null,
  mount: (document, api) =>
    keepEntryPoint(
      document,
      {
        messenger: "Converse.js",
        // Logged in: the profile row; on the login screen: the control box toolbar.
        anchors: ["converse-controlbox converse-user-profile .profile", "converse-controlbox converse-controlbox-buttons [role=toolbar]"],
        position: "append",
      },
      api,
    ),
};
