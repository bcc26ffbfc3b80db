import type { EmsgPageApi } from "../messaging/page-api.js";
import type { ReplyOf } from "../messaging/messages.js";

/** Marks our own elements so the scanner and adapters never scan or double-mount them. */
export const EMSG_HOST_ATTRIBUTE = "data-emsg";

/**
 * Pins a host element's own box with inline !important declarations: page rules aimed at the
 * host (a reset like `* { all: unset }`, or one hiding it) lose to these, and rules inside the
 * shadow root cannot be reached at all.
 */
export function shieldHost(host: HTMLElement, display: string, margin = "0"): void {
  host.style.cssText =
    `all: initial !important; display: ${display} !important; visibility: visible !important; ` +
    `position: static !important; vertical-align: baseline !important; margin: ${margin} !important;`;
}

// Everything is inside a shadow root: page CSS cannot reach in, ours cannot leak out. It is open
// so assistive tools and tests can see it; page scripts could too, so clicks must be trusted.
const STYLE = `
button { font: 600 11px/1.4 system-ui, sans-serif; color: #0b3d91; background: #eef3ff; border: 1px solid #7d9ad6;
  border-radius: 999px; padding: 0 0.6em; cursor: pointer; }
button:hover { background: #dde7ff; }
button:focus-visible { outline: 2px solid #0b3d91; outline-offset: 2px; }
button[aria-disabled="true"] { cursor: default; color: #35603a; background: #eaf6ea; border-color: #7fb685; }
button.failed { color: #8a1c1c; background: #fdecec; border-color: #d88; }
`;

function outcome(reply: ReplyOf["add-friend"]): { label: string; failed: boolean } {
  if (!reply.ok) return { label: reply.message, failed: true };
  switch (reply.state) {
    case "friend":
      return { label: "Already a friend", failed: false };
    case "queued":
      return { label: "Will be added once EMSG is set up", failed: false };
    case "blocked":
      return { label: "You blocked this address", failed: true };
    default:
      return { label: "Friend request sent", failed: false };
  }
}

/** A small "Add as EMSG friend" button for one address, isolated in a shadow root. */
export function createAffordance(document: Document, address: string, api: EmsgPageApi): HTMLElement {
  const host = document.createElement("emsg-add-friend");
  host.setAttribute(EMSG_HOST_ATTRIBUTE, "affordance");
  host.dataset.address = address;
  shieldHost(host, "inline-block", "0 0 0 0.25em");
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = STYLE;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "+ EMSG";
  button.title = `Add ${address} as EMSG friend`;
  button.setAttribute("aria-label", `Add ${address} as EMSG friend`);
  const status = document.createElement("span");
  status.setAttribute("role", "status");
  status.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)";
  root.append(style, button, status);

  button.addEventListener("click", async (event) => {
    // The address may sit inside a link: the button must not follow it.
    event.preventDefault();
    event.stopPropagation();
    // A page script's synthetic click must not add friends in the user's name.
    if (!event.isTrusted || button.getAttribute("aria-disabled") === "true") return;
    button.setAttribute("aria-busy", "true");
    const { label, failed } = outcome(await api.addFriend(address));
    button.removeAttribute("aria-busy");
    button.classList.toggle("failed", failed);
    if (!failed) button.setAttribute("aria-disabled", "true");
    button.textContent = failed ? "EMSG: try again" : `✓ ${label}`;
    button.setAttribute("aria-label", `${address}: ${label}`);
    status.textContent = `${address}: ${label}`;
  });
  return host;
}
