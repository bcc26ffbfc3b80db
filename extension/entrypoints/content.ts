import { defineContentScript } from "wxt/utils/define-content-script";
import { ADAPTERS } from "../adapters/registry.js";
import { createAffordance } from "../content/friend-affordance.js";
import { watchForMessenger } from "../content/messenger-watch.js";
import { isEmsgClient } from "../content/own-client.js";
import { placeAfterAddresses, watchPage } from "../content/page-scanner.js";
import { runtimePageApi } from "../messaging/page-api.js";

// Holds no keys and reaches no server: it finds addresses and asks the background to act.
export default defineContentScript({
  matches: ["http://*/*", "https://*/*"],
  runAt: "document_idle",
  main(ctx) {
    if (isEmsgClient(document)) return;
    const stopScanning = watchPage(document, (node, found) =>
      placeAfterAddresses(node, found, (address) => createAffordance(document, address, runtimePageApi)),
    );
    const stopMessenger = watchForMessenger(document, location, ADAPTERS, runtimePageApi);
    ctx.onInvalidated(() => {
      stopScanning();
      stopMessenger();
    });
  },
});
