import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CDPSession, Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { sendBacklog, storedTextsInIndexedDb } from "../../bench/backlog.js";
import { type Person, register, until } from "../../bench/emsg-people.js";
import { createInPanel, launchWithExtension, type LoadedExtension } from "./extension-harness.js";

// Ports of this file alone.
const PORT_BASE = 19784;
const INSPECTOR_BASE = 20784;
const ALICE = "alice#im.alice.test";
/** The backlog a panel opens in the middle of: long enough that a fast machine is still reading it once the panel has its list. */
const DURING = 6000;

// The background tells its pages of each message only while one may listen (messaging/page-audience.ts):
// a catch-up with no page open sends them nothing. Whenever a page opens, before, during or after a
// catch-up, it still shows every message and the right unread count, and a page left open under a
// background the browser stopped does not wake it.
describe("the extension's side panel opened before, during or after a catch-up", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let bob: Person;
  let cdp: CDPSession;
  let counter: Page;
  type Version = { versionId: string; scriptURL: string; runningStatus: string };
  const versions = new Map<string, Version>();
  /** How often each version was seen stopped: a stop and a quick restart may pass between two polls. */
  const stops = new Map<string, number>();
  let stored = 0;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-catch-up-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    bob = await register("bob#im.alice.test", servers.resolve);
    // DevTools' view of the extension's service worker, from a plain tab that is no page of the extension.
    cdp = await ext.context.newCDPSession(await ext.context.newPage());
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions: updated }: { versions: Version[] }) => {
      for (const version of updated) {
        versions.set(version.versionId, version);
        if (version.runningStatus === "stopped") stops.set(version.versionId, (stops.get(version.versionId) ?? 0) + 1);
      }
    });
    await cdp.send("ServiceWorker.enable");
    counter = await ext.context.newPage();
    await counter.goto(`chrome-extension://${ext.id}/icon-32.png`);
  }, 300_000);

  // A test that failed leaves no panel open for the next, which must start with none.
  afterEach(async () => {
    for (const page of ext.context.pages()) if (page.url().endsWith("/sidepanel.html")) await page.close();
  });

  afterAll(async () => {
    bob?.client.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const ours = () => [...versions.values()].filter((version) => version.scriptURL.startsWith(`chrome-extension://${ext.id}/`));
  const running = () => ours().some((version) => version.runningStatus === "running");

  /**
   * Texts the background has stored, counted in the extension's IndexedDB without reading them, from a
   * tab showing one of its images: no page of the extension, it neither listens nor asks anything, and
   * it stays while the browser stops and starts the worker.
   */
  const storedTexts = (): Promise<number> => counter.evaluate(storedTextsInIndexedDb);

  /**
   * The browser stops the background, as MV3 does an idle one. A request a page sent just before
   * (a panel still loading what it shows) starts it again at once, as it would in use: it is stopped
   * again until it stays stopped.
   */
  async function stopBackground(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await expect.poll(running, { timeout: 30_000 }).toBe(true);
      const version = ours().find((v) => v.runningStatus === "running")!;
      const before = stops.get(version.versionId) ?? 0;
      await cdp.send("ServiceWorker.stopWorker", { versionId: version.versionId });
      await expect.poll(() => stops.get(version.versionId) ?? 0, { timeout: 30_000 }).toBeGreaterThan(before);
      await new Promise((done) => setTimeout(done, 500));
      if (!running()) return;
      expect(attempt, "the background keeps starting again as soon as it is stopped").toBeLessThan(3);
    }
  }

  /** Starts the stopped background as its alarm would, with no page asking anything. */
  async function startBackground(): Promise<void> {
    await cdp.send("ServiceWorker.startWorker", { scopeURL: `chrome-extension://${ext.id}/` });
    await expect.poll(running, { timeout: 30_000 }).toBe(true);
  }

  async function openPanel(): Promise<Page> {
    const panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    return panel;
  }

  const bobsRow = (panel: Page) => panel.getByTestId("chat-row").filter({ hasText: bob.address });

  /** What the panel's chat list says of bob's chat: its last text and its unread count. */
  async function expectRow(panel: Page, last: string, unread: number): Promise<void> {
    const row = bobsRow(panel);
    await expect.poll(() => row.locator(".preview").textContent(), { timeout: 60_000 }).toBe(last);
    await expect.poll(() => row.locator(".unread").textContent(), { timeout: 30_000 }).toBe(`${unread} unread`);
  }

  /**
   * Opens bob's chat: at the first of its `unread` texts, under the line counting them; its newest
   * texts in order; down to the newest, which reads them; then back to the list, everything read.
   */
  async function expectChat(panel: Page, label: string, count: number, unread: number): Promise<void> {
    await bobsRow(panel).click();
    const texts = panel.getByTestId("message").locator(".text");
    await texts.filter({ hasText: new RegExp(`^${label} ${count - 1}$`) }).waitFor({ timeout: 60_000 });
    expect(await panel.getByTestId("unread-line").textContent()).toBe(`${unread} unread messages`);
    const shown = await texts.allTextContents();
    const tail = shown.slice(-5);
    expect(tail).toEqual(Array.from({ length: 5 }, (_, n) => `${label} ${count - 5 + n}`));
    await panel.getByTestId("jump-newest").click();
    await panel.getByRole("button", { name: "Back to chats" }).click();
    await expect.poll(() => bobsRow(panel).locator(".unread").count(), { timeout: 30_000 }).toBe(0);
  }

  async function backlogStored(count: number): Promise<void> {
    stored += count;
    await until(`the background to store ${stored} texts`, async () => (await storedTexts()) >= stored, 300_000);
    expect(await storedTexts()).toBe(stored);
  }

  it("alice, in the extension, and bob become friends; bob's first text arrives", async () => {
    const panel = await createInPanel(ext, ALICE, servers.origins["im.alice.test"]!);
    await panel.getByRole("tab", { name: "Friends" }).click();
    await panel.getByLabel("Address or emsg: link").fill(bob.address);
    await panel.getByRole("button", { name: "Send request" }).click();
    await until(`${bob.address} to get alice's request`, async () => {
      await bob.client.sync();
      return (await bob.client.friends()).some((f) => f.address === ALICE);
    }, 60_000);
    await bob.client.acceptFriend(ALICE);
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).waitFor({ timeout: 90_000 });
    await bob.client.sendText(ALICE, "first");
    await until(`${bob.address} to send his first text`, async () => (await bob.client.flush()) === 0, 60_000);
    await backlogStored(1);
    await panel.getByRole("tab", { name: "Chats" }).click();
    await expectRow(panel, "first", 1);
    await panel.close();
  }, 240_000);

  it("opened after a catch-up no page saw, the panel shows every text and the unread count", async () => {
    await sendBacklog(bob, ALICE, 300, "after");
    await backlogStored(300);
    const panel = await openPanel();
    await expectRow(panel, "after 299", 301);
    await expectChat(panel, "after", 300, 301);
    await panel.close();
  }, 360_000);

  it("opened during a catch-up the background started alone, the panel shows every text and the unread count", async () => {
    await stopBackground();
    await sendBacklog(bob, ALICE, DURING, "during");
    await startBackground();
    const before = stored;
    await until("the catch-up to be under way", async () => (await storedTexts()) > before, 120_000);
    // Long enough for the background to learn, from its first frame's notices, that no page is open
    // (their send fails at once), and short against the rest of the catch-up.
    await new Promise((done) => setTimeout(done, 500));
    const panel = await openPanel();
    await bobsRow(panel).waitFor({ timeout: 60_000 });
    // The panel read its chat list while the backlog was still being read: the rest it must be told.
    expect(await storedTexts()).toBeLessThan(before + DURING);
    await backlogStored(DURING);
    await expectRow(panel, `during ${DURING - 1}`, DURING);
    await expectChat(panel, "during", DURING, DURING);
    await panel.close();
  }, 420_000);

  it("left open while the browser stops the background, the panel does not wake it, and shows the next catch-up as it happens", async () => {
    const panel = await openPanel();
    await bobsRow(panel).waitFor({ timeout: 60_000 });
    await stopBackground();
    // Nothing the open panel does brings the background back by itself.
    await new Promise((done) => setTimeout(done, 3000));
    expect(running()).toBe(false);
    await sendBacklog(bob, ALICE, 300, "open");
    await startBackground();
    await backlogStored(300);
    // The panel asked nothing of this new background: it was told of every text as it came.
    await expectRow(panel, "open 299", 300);
    await expectChat(panel, "open", 300, 300);
    await panel.close();
  }, 360_000);
});
