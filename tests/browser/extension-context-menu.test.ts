import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchWithExtension, serveHttp, type LoadedExtension, type Served } from "./extension-harness.js";

const PAGE = `<!doctype html><html lang="en"><title>Contacts</title>
<p id="with">Reach Carol at carol#im.c.net any time.</p>
<p id="without">Or mail dave@example.com, see https://example.com/page#contact.</p></html>`;

type ChromeInWorker = {
  contextMenus: {
    update(id: string, change: object): Promise<void>;
    onClicked: { dispatch(info: object, tab: object): void };
  };
  notifications: { getAll(): Promise<Record<string, boolean>> };
};

// Headless Chromium draws no native menu, so the test selects real text on the page and hands the
// background what Chrome hands it when the menu item is chosen: the item's id and the selection.
describe("the Add-as-EMSG-friend item in the context menu of selected text", () => {
  let ext: LoadedExtension;
  let site: Served;
  let page: Page;

  beforeAll(async () => {
    site = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
    });
    ext = await launchWithExtension();
    page = await ext.context.newPage();
    await page.goto(site.origin);
  }, 60_000);

  afterAll(async () => {
    await ext?.close();
    await site?.close();
  });

  async function select(id: string): Promise<string> {
    return page.evaluate((id) => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(id)!);
      const selection = window.getSelection()!;
      selection.removeAllRanges();
      selection.addRange(range);
      return selection.toString();
    }, id);
  }

  async function choose(selectionText: string): Promise<void> {
    await ext.worker.evaluate(({ selectionText, pageUrl }) => {
      const chrome = (globalThis as unknown as { chrome: ChromeInWorker }).chrome;
      chrome.contextMenus.onClicked.dispatch({ menuItemId: "emsg-add-friend", selectionText, pageUrl, editable: false }, { id: 1, url: pageUrl });
    }, { selectionText, pageUrl: site.origin + "/" });
  }

  const notifications = () =>
    ext.worker.evaluate(async () => Object.keys(await (globalThis as unknown as { chrome: ChromeInWorker }).chrome.notifications.getAll()).length);

  async function waiting(): Promise<string> {
    const popup = await ext.context.newPage();
    await popup.goto(`chrome-extension://${ext.id}/popup.html`);
    const region = popup.getByRole("region", { name: "Waiting to be added" });
    const text = (await region.count()) > 0 ? await region.innerText() : "";
    await popup.close();
    return text;
  }

  it("is registered when the extension is installed", async () => {
    // Chrome runs onInstalled shortly after the worker starts: the item appears within moments.
    const exists = () =>
      ext.worker.evaluate(async () => {
        const chrome = (globalThis as unknown as { chrome: ChromeInWorker }).chrome;
        return chrome.contextMenus.update("emsg-add-friend", {}).then(() => true, () => false);
      });
    await expect.poll(exists, { timeout: 10_000 }).toBe(true);
  });

  it("adds the address found in the selection, and says so in a notification", async () => {
    const before = await notifications();
    await choose(await select("with"));
    await expect.poll(notifications, { timeout: 10_000 }).toBe(before + 1);
    await expect.poll(waiting, { timeout: 10_000 }).toContain("carol#im.c.net");
  });

  it("adds nobody for a selection with only an e-mail address and a URL fragment, and says why", async () => {
    const before = await notifications();
    await choose(await select("without"));
    await expect.poll(notifications, { timeout: 10_000 }).toBe(before + 1);
    // The popup renders its list once it has read storage: the list checked is one that shows Carol.
    let list = "";
    await expect.poll(async () => (list = await waiting()), { timeout: 10_000 }).toContain("carol#im.c.net");
    expect(list).not.toMatch(/dave|contact/);
  });
});
