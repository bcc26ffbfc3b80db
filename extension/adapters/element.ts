import type { MessengerAdapter } from "./adapter.js";
import { keepEntryPoint } from "./entry-point.js";

/** Element Web, on app.element.io or self-hosted: recognized by its MatrixChat root. */
export const elementAdapter: MessengerAdapter = {
  name: "Element",
  matches: (location, document) => location.hostname === "app.element.io" || document.querySelector(".mx_MatrixChat, #matrixchat") !== null,
  mount: (document, api) =>
    keepEntryPoint(
      document,
      {
        messenger: "Element",
        // The new room list header, then the legacy room list's search row.
        anchors: [".mx_LeftPanel .mx_RoomListHeaderView", ".mx_LeftPanel .mx_LeftPanel_filterContainer"],
        position: "append",
      },
      api,
    ),
};
