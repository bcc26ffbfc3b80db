import { render } from "preact";
import { Workbox } from "workbox-window";
import { openDatabase } from "./platform/database.js";
import { BrowserPlatform } from "./platform/browser-platform.js";
import { followBackNavigation } from "./platform/back-navigation.js";
import { AppViewModel } from "../../ui/view-models/app-model.js";
import { addParameter } from "../../ui/view-models/scanned-code.js";
import { AppView } from "./views/app-view.js";
import "./styles.css";

async function boot(): Promise<void> {
  const app = new AppViewModel(new BrowserPlatform(await openDatabase(), location.origin));
  render(<AppView app={app} />, document.getElementById("app")!);
  // An invite link or the web+emsg: protocol handler opened us with ?add=ADDRESS.
  const add = addParameter(location.search);
  if (add !== null) {
    history.replaceState(null, "", location.pathname);
    app.addFromLink(add);
  }
  followBackNavigation(app);
  await app.start();
}

// The service worker precaches the app shell so EMSG opens offline; not under the dev server.
if ("serviceWorker" in navigator && !import.meta.env.DEV) void new Workbox("/sw.js").register();

void boot();
