import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { createInPanel, launchWithExtension, type LoadedExtension, registerInTab, type Served, serveHttp } from "./extension-harness.js";

// Ports of this file alone.
const PORT_BASE = 8905;
const INSPECTOR_BASE = 9505;

// Alice uses the extension on im.alice.test; Bob uses the PWA of im.bob.test in a tab of the
// same browser, and later links a second browser's extension to his PWA account.
describe("the extension and a PWA user on the other domain", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let bobsExt: LoadedExtension | undefined;
  let site: Served;
  let panel: Page;
  let bob: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-pwa-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    site = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><title>Bob's home page</title><h1>Bob</h1><p>Find me on EMSG: bob#im.bob.test</p></html>`);
    });
    ext = await launchWithExtension();
  }, 300_000);

  afterAll(async () => {
    await bobsExt?.close();
    await ext?.close();
    await site?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const openTab = (page: Page, tab: "Chats" | "Friends" | "Settings") => page.getByRole("navigation").getByRole("button", { name: tab }).click();

  it("sets up alice in the extension, and bob registers in the PWA of im.bob.test in a tab beside it", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);

    bob = await registerInTab(ext, servers.origins["im.bob.test"]!, "bob");
    await openTab(bob, "Friends");
    await expect.poll(() => bob.getByTestId("my-address").textContent()).toBe("bob#im.bob.test");
    // The extension's content script runs on the PWA too, but leaves EMSG's own client alone.
    expect(await bob.locator("emsg-add-friend").count()).toBe(0);
  });

  it("adds bob from his web page with the inline button, and bob accepts in the PWA", async () => {
    const page = await ext.context.newPage();
    await page.goto(site.origin);
    await page.getByRole("button", { name: "Add bob#im.bob.test as EMSG friend" }).click();
    const button = page.locator('emsg-add-friend[data-address="bob#im.bob.test"]').getByRole("button");
    await expect.poll(() => button.getAttribute("aria-label"), { timeout: 30_000 }).toBe("bob#im.bob.test: Friend request sent");
    await page.close();

    const request = bob.getByTestId("incoming").getByTestId("person").filter({ hasText: "alice#im.alice.test" });
    await request.waitFor({ timeout: 60_000 });
    await request.getByRole("button", { name: "Accept" }).click();
    await bob.getByTestId("friend-list").getByText("alice#im.alice.test", { exact: true }).waitFor({ timeout: 30_000 });
    expect(await bob.locator("emsg-add-friend").count()).toBe(0);

    await panel.getByRole("tab", { name: "Friends" }).click();
    await expect.poll(() => panel.getByRole("list", { name: "Friends" }).innerText(), { timeout: 90_000 }).toMatch(/bob#im\.bob\.test\s*Message/);
  });

  it("exchanges messages both ways: each sees the other's text in their own client", async () => {
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).click();
    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("Hello Bob, from the extension");
    await composer.press("Enter");
    const timeline = panel.getByRole("list", { name: "Messages" });
    await expect.poll(() => timeline.innerText()).toContain("Hello Bob, from the extension");

    await openTab(bob, "Chats");
    const row = bob.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" });
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await bob.getByTestId("message").filter({ hasText: "Hello Bob, from the extension" }).waitFor({ timeout: 60_000 });
    const reply = bob.getByLabel("Message", { exact: true });
    await reply.fill("Hi Alice, from the PWA 你好");
    await reply.press("Enter");

    await expect.poll(() => timeline.innerText(), { timeout: 90_000 }).toContain("Hi Alice, from the PWA 你好");
    // Each side's device acknowledged the other's message: two ticks on both.
    // Bob has the chat open, so alice's message may show as read already: two ticks either way.
    await expect.poll(() => timeline.getByLabel(/^(Delivered|Read)$/).count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await bob.getByTestId("message").filter({ hasText: "Hi Alice, from the PWA" }).locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 60_000 });
  });

  it("comes back online by itself after alice's server restarts, and gets what bob wrote meanwhile", async () => {
    const connection = panel.locator(".connection");
    // Only the worker's own retries may bring it back: its alarms (the one-minute wake-up) are
    // cleared for this test and set again after it.
    type Alarms = { alarms: { getAll(): Promise<Array<{ name: string; periodInMinutes?: number }>>; clearAll(): Promise<boolean>; create(name: string, info: object): Promise<void> } };
    const background = () => ext.context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${ext.id}/`))!;
    const alarms = await background().evaluate(async () => {
      const { alarms } = (globalThis as unknown as { chrome: Alarms }).chrome;
      const set = await alarms.getAll();
      await alarms.clearAll();
      return set;
    });
    expect(alarms.length).toBeGreaterThan(0);
    onTestFinished(async () => {
      await background().evaluate(async (set) => {
        const { alarms } = (globalThis as unknown as { chrome: Alarms }).chrome;
        for (const { name, periodInMinutes } of set) await alarms.create(name, periodInMinutes === undefined ? {} : { periodInMinutes });
      }, alarms);
    });
    await servers.stop("im.alice.test");
    await expect.poll(() => connection.textContent(), { timeout: 30_000 }).not.toBe("Online");
    const reply = bob.getByLabel("Message", { exact: true });
    await reply.fill("Written while your server was down");
    await reply.press("Enter");
    await servers.restart("im.alice.test");
    // With no alarm left, only the worker's retries (backing off from 1 s to at most 30 s, ±20 %)
    // find the server back. How long after the restart they do depends on how long it was down,
    // so no time is asserted: a loaded machine restarts it slowly, and the retries are spaced wider by then.
    await expect.poll(() => connection.textContent(), { timeout: 60_000, interval: 250 }).toBe("Online");
    await expect.poll(() => panel.getByRole("list", { name: "Messages" }).innerText(), { timeout: 90_000 }).toContain("Written while your server was down");
  }, 180_000);

  it("links another browser's extension to bob's PWA account with the code his Settings shows, and it gets alice's next message", async () => {
    await openTab(bob, "Settings");
    const devices = bob.getByTestId("devices");
    await devices.getByRole("button", { name: "Link a new device" }).click();
    const code = await devices.getByTestId("link-offer").getByLabel("Link code", { exact: true }).inputValue();
    expect(code).toMatch(/^emsg-link:1:bob#im\.bob\.test:/);

    bobsExt = await launchWithExtension();
    const bobsPanel = await bobsExt.context.newPage();
    await bobsPanel.goto(`chrome-extension://${bobsExt.id}/sidepanel.html`);
    await bobsPanel.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await bobsPanel.getByLabel("Link code").fill(code);
    await bobsPanel.getByLabel(/Server URL/).fill(servers.origins["im.bob.test"]!);
    await bobsPanel.getByRole("button", { name: "Link this device" }).click();
    await expect.poll(() => bobsPanel.locator(".who").textContent(), { timeout: 60_000 }).toBe("bob#im.bob.test");
    // The PWA hears of its new sibling device.
    await devices.getByText("browser extension is now linked to your account.").waitFor({ timeout: 30_000 });
    await expect.poll(() => devices.getByTestId("device").count()).toBe(2);

    // The new device is in the conversation once its Welcome came, so once the hub took the commit
    // adding it: what Alice writes from then on is ordered after that commit. (Written before it,
    // a message is of the epoch the new device never had, and only the PWA reads it.)
    // Alice is offered under "New chat" at once (a friend from the link): only the chat's own row in
    // the list of chats says the Welcome came.
    await bobsPanel.getByRole("tab", { name: /Chats/ }).click();
    const chatWithAlice = bobsPanel.getByRole("list", { name: "Chats" }).getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" });
    await chatWithAlice.waitFor({ timeout: 90_000 });
    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("Bob, this reaches every device of yours");
    await composer.press("Enter");

    await chatWithAlice.click();
    // Alice's extension may still be an epoch behind (the commit adding the new device is on its
    // way): the hub refuses that, and the message goes out again once the commit is in.
    await expect.poll(() => bobsPanel.getByRole("list", { name: "Messages" }).innerText(), { timeout: 90_000 }).toContain("Bob, this reaches every device of yours");
    await openTab(bob, "Chats");
    await bob.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click();
    await bob.getByTestId("message").filter({ hasText: "Bob, this reaches every device of yours" }).waitFor({ timeout: 60_000 });
  }, 240_000);
});
