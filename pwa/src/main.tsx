import { render } from "preact";
import { Workbox } from "workbox-window";
import { openDatabase } from "./platform/database.js";
import { BrowserPlatform } from "./platform/browser-platform.js";
import { followBackNavigation } from "./platform/back-navigation.js";
import { AppViewModel } from "../../ui/view-models/app-model.js";
import { addParameter } from "../../ui/view-models/scanned-code.js";
import { pickLocale, translator } from "../../ui/i18n/translate.js";
import { AppView } from "./views/app-view.js";
import "./styles.css";

async function boot(): Promise<void> {
  const root = document.getElementById("app")!;
  const db = await openDatabase("emsg", {
    // The service worker updates the app at once, so an open tab may still run the version before.
    blocked: () => (root.textContent = translator(pickLocale(navigator.languages))("app.otherTabsOpen")),
    outdated: () => location.reload(),
  });
  const app = new AppViewModel(new BrowserPlatform(db, location.origin));
  root.textContent = "";
  render(<AppView app={app} />, root);
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
