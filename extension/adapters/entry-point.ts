import { EMSG_HOST_ATTRIBUTE, shieldHost } from "../content/friend-affordance.js";
import type { EmsgPageApi } from "../messaging/page-api.js";

export interface EntryPointPlace {
  /** Selectors tried in order; the first one present in the page gets the button. */
  anchors: string[];
  /** Where the button goes relative to the anchor. */
  position: "append" | "prepend" | "after" | "before";
  /** Which messenger, for the button's accessible name and tests. */
  messenger: string;
}

const STYLE = `
:host > * { font: 13px/1.4 system-ui, sans-serif; }
button { font: inherit; cursor: pointer; border-radius: 6px; }
.open { font-weight: 700; color: #fff; background: #2456c9; border: 0; padding: 2px 8px; margin: 2px 4px; }
.open:focus-visible, .panel button:focus-visible, .panel input:focus-visible { outline: 2px solid #ffbf47; outline-offset: 2px; }
.panel { position: fixed; z-index: 2147483647; width: 280px; max-height: 60vh; overflow: auto; color: #1a1a1a;
  background: #fff; border: 1px solid #9aa7c7; border-radius: 10px; box-shadow: 0 8px 24px rgb(0 0 0 / 0.2); padding: 12px; }
.panel[hidden] { display: none; }
h2 { font-size: 14px; margin: 0 0 8px; }
form { display: flex; gap: 4px; margin: 8px 0; }
input { flex: 1; min-width: 0; font: inherit; padding: 3px 6px; border: 1px solid #9aa7c7; border-radius: 6px; }
.panel button { background: #eef3ff; border: 1px solid #7d9ad6; padding: 3px 8px; }
p { margin: 4px 0; }
`;

function text(document: Document, tag: string, content: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  return el;
}

/**
 * The inline EMSG panel: add a friend by address, or open EMSG beside the messenger. It shows
 * nothing about the account, friends or messages: this DOM lives in the page, which can read it.
 */
function buildPanel(document: Document, api: EmsgPageApi): HTMLElement {
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "EMSG");
  const heading = text(document, "h2", "EMSG");
  const intro = text(document, "p", "Add someone by their EMSG address, or open EMSG beside this page to chat with your EMSG friends.");
  const form = document.createElement("form");
  const input = document.createElement("input");
  input.placeholder = "name#server";
  input.setAttribute("aria-label", "EMSG address to add");
  const add = text(document, "button", "Add as EMSG friend") as HTMLButtonElement;
  add.type = "submit";
  form.append(input, add);
  const status = document.createElement("p");
  status.setAttribute("role", "status");
  const full = text(document, "button", "Open EMSG") as HTMLButtonElement;
  full.type = "button";
  panel.append(heading, intro, form, status, full);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    event.stopPropagation();
    // Only the user adds friends: a page script's synthetic submit is ignored.
    if (!event.isTrusted) return;
    const reply = await api.addFriend(input.value);
    status.textContent = reply.ok ? `${reply.address}: ${reply.state === "queued" ? "will be added once EMSG is set up" : "friend request sent"}` : reply.message;
    if (reply.ok) input.value = "";
  });
  full.addEventListener("click", async (event) => {
    if (!event.isTrusted) return;
    const reply = await api.openPanel();
    status.textContent = reply.ok ? "EMSG is open beside this page." : reply.message;
  });
  return panel;
}

function build(document: Document, api: EmsgPageApi, messenger: string): HTMLElement {
  const host = document.createElement("emsg-entry-point");
  host.setAttribute(EMSG_HOST_ATTRIBUTE, "entry-point");
  host.dataset.messenger = messenger;
  shieldHost(host, "inline-flex");
  const root = host.attachShadow({ mode: "open" });
  const style = text(document, "style", STYLE);
  const open = text(document, "button", "EMSG") as HTMLButtonElement;
  open.type = "button";
  open.className = "open";
  open.title = `Open EMSG from ${messenger}`;
  open.setAttribute("aria-haspopup", "dialog");
  open.setAttribute("aria-expanded", "false");
  const panel = buildPanel(document, api);
  root.append(style, open, panel);

  const close = (): void => {
    panel.hidden = true;
    open.setAttribute("aria-expanded", "false");
  };
  open.addEventListener("click", (event) => {
    event.preventDefault();
    event.stopPropagation();
    if (!event.isTrusted) return;
    if (!panel.hidden) return close();
    const rect = open.getBoundingClientRect();
    const width = 280;
    panel.style.left = `${Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8))}px`;
    panel.style.top = `${rect.bottom + 4}px`;
    panel.hidden = false;
    open.setAttribute("aria-expanded", "true");
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      close();
      open.focus();
    }
  });
  // The messenger's own shortcuts must not see typing inside our panel.
  for (const type of ["keydown", "keyup", "keypress", "input"]) panel.addEventListener(type, (event) => event.stopPropagation());
  return host;
}

/**
 * Keeps one EMSG button in a messenger's chrome: single-page messengers render late and
 * re-render often, so it waits for the anchor and puts the button back when it is removed.
 */
export function keepEntryPoint(document: Document, place: EntryPointPlace, api: EmsgPageApi): () => void {
  const host = build(document, api, place.messenger);
  const ensure = (): void => {
    if (host.isConnected) return;
    for (const selector of place.anchors) {
      const anchor = document.querySelector(selector);
      if (!anchor) continue;
      if (place.position === "append") anchor.append(host);
      else if (place.position === "prepend") anchor.prepend(host);
      else if (place.position === "after") anchor.after(host);
      else anchor.before(host);
      return;
    }
  };
  let queued = false;
  const observer = new document.defaultView!.MutationObserver(() => {
    if (queued || host.isConnected) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      ensure();
    });
  });
  observer.observe(document.documentElement, { childList: true, subtree: true });
  ensure();
  return () => {
    observer.disconnect();
    host.remove();
  };
}
