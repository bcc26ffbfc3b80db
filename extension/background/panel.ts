import { browser } from "wxt/browser";

interface SidePanelApi {
  open(options: { tabId?: number; windowId?: number }): Promise<void>;
}
interface SidebarApi {
  open(): Promise<void>;
}

/**
 * Opens EMSG beside the page: Chrome's side panel, Firefox's sidebar, or else a tab. Both
 * panels only open during a user gesture; a click in a page that messaged us counts in
 * Chrome 116+, and where it does not, the tab is the honest fallback.
 */
export async function openPanel(tabId: number | undefined): Promise<"side-panel" | "sidebar" | "tab"> {
  const api = browser as unknown as { sidePanel?: SidePanelApi; sidebarAction?: SidebarApi };
  try {
    if (api.sidePanel && tabId !== undefined) {
      await api.sidePanel.open({ tabId });
      return "side-panel";
    }
    if (api.sidebarAction) {
      await api.sidebarAction.open();
      return "sidebar";
    }
  } catch {
    // No user gesture reached us: fall through to a tab.
  }
  // WXT types getURL against generated paths; this file must type-check without generating them.
  const runtime = browser.runtime as unknown as { getURL(path: string): string };
  await browser.tabs.create({ url: runtime.getURL("/sidepanel.html") });
  return "tab";
}
