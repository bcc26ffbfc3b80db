import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { createInPanel, launchWithExtension, type LoadedExtension, registerInTab } from "./extension-harness.js";
import { openTab } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 19360;
const INSPECTOR_BASE = 20360;

// Alice uses the extension's side panel (as narrow as Chrome draws it) on im.alice.test; Bob the PWA
// of im.bob.test in a tab of the same browser. Told in order: friend requests, then Bob writes.
describe("the extension's side panel and toolbar icon", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let panel: Page;
  let bob: Page;
  const BOB = "bob#im.bob.test";

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-panel-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);
    await panel.setViewportSize({ width: 360, height: 640 });
    bob = await registerInTab(ext, servers.origins["im.bob.test"]!, "bob");
  }, 300_000);

  afterAll(async () => {
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const field = () => panel.getByLabel("Address or emsg: link");
  const send = async (address: string) => {
    await field().fill(address);
    await panel.getByRole("button", { name: "Send request" }).click();
  };
  const status = () => panel.getByRole("region", { name: "Friends" }).getByRole("status");
  const setStrangers = async (choice: string) => {
    await openTab(bob, "Settings");
    await bob.getByLabel(choice).check();
    await bob.getByText("Saved").waitFor();
  };

  it("names an address no account has, and keeps it in the field", async () => {
    await panel.getByRole("tab", { name: "Friends" }).click();
    await send("bob2#im.bob.test");
    await expect.poll(() => status().innerText(), { timeout: 30_000 }).toBe("There is no account bob2#im.bob.test.");
    expect(await field().inputValue()).toBe("bob2#im.bob.test");
  });

  it("lets a request that waits on a server out of reach be cancelled", async () => {
    await send("x#no-such-domain.example");
    const waiting = panel.getByRole("list", { name: "Waiting for answer" }).locator("li").filter({ hasText: "x#no-such-domain.example" });
    await waiting.waitFor({ timeout: 30_000 });
    await waiting.getByRole("button", { name: "Cancel request" }).click();
    await waiting.waitFor({ state: "detached" });
    expect(await panel.getByText("x#no-such-domain.example").count()).toBe(0);
  });

  it("lists a request that came back as not delivered, with why, and lets it be dismissed", async () => {
    await setStrangers("Refuse strangers; only friends reach me");
    await send(BOB);
    const undelivered = panel.getByRole("list", { name: "Not delivered" }).locator("li").filter({ hasText: BOB });
    await undelivered.getByText(`${BOB} only accepts messages from friends.`, { exact: false }).waitFor({ timeout: 30_000 });
    await undelivered.getByRole("button", { name: "Dismiss" }).click();
    await undelivered.waitFor({ state: "detached" });
    await setStrangers("Accept friend requests from anyone");
  });

  it("says that a friend is one already, and keeps the address in the field", async () => {
    await send(BOB);
    await openTab(bob, "Friends");
    const request = bob.getByTestId("incoming").getByTestId("person").filter({ hasText: "alice#im.alice.test" });
    await request.getByRole("button", { name: "Accept" }).click({ timeout: 60_000 });
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).waitFor({ timeout: 60_000 });
    await send(BOB);
    await expect.poll(() => status().innerText()).toBe(`${BOB} is already your friend.`);
    expect(await field().inputValue()).toBe(BOB);
  }, 120_000);

  it("counts unread messages on the toolbar icon, and clears it once they are read", async () => {
    const badge = () => ext.worker.evaluate(() => (globalThis as unknown as { chrome: { action: { getBadgeText(details: object): Promise<string> } } }).chrome.action.getBadgeText({}));
    await panel.getByRole("tab", { name: "Chats" }).click();
    await openTab(bob, "Friends");
    await bob.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    for (const text of ["Are you there?", "Tea at five"]) {
      const composer = bob.getByLabel("Message", { exact: true });
      await composer.fill(text);
      await composer.press("Enter");
    }
    await expect.poll(badge, { timeout: 60_000 }).toBe("2");
    await panel.getByRole("tab", { name: "Friends" }).click();
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).click();
    await panel.getByRole("list", { name: "Messages" }).getByText("Tea at five").waitFor({ timeout: 30_000 });
    await expect.poll(badge, { timeout: 30_000 }).toBe("");
  }, 120_000);

  it("opens a chat with the cursor in the message box", async () => {
    const box = panel.getByLabel("Message", { exact: true });
    await expect.poll(() => box.evaluate((field) => field === document.activeElement)).toBe(true);
  });

  it("keeps the message box at the bottom of the panel, the timeline taking the room above it", async () => {
    const below = await panel.locator("form.composer").evaluate((form) => innerHeight - form.getBoundingClientRect().bottom);
    expect(below).toBeLessThan(24);
  });

  it("grows the message box with its text, and shrinks it back", async () => {
    const box = panel.getByLabel("Message", { exact: true });
    const oneLine = (await box.boundingBox())!.height;
    await box.fill("one\ntwo\nthree\nfour");
    await expect.poll(async () => (await box.boundingBox())!.height).toBeGreaterThan(oneLine * 2);
    await box.fill("");
    await expect.poll(async () => (await box.boundingBox())!.height).toBe(oneLine);
  });

  it("keeps a message's time and ticks on one line, however narrow its bubble", async () => {
    const box = panel.getByLabel("Message", { exact: true });
    await box.fill("Yes, see you at five then");
    await box.press("Enter");
    const mine = panel.getByRole("list", { name: "Messages" }).locator("li.mine").filter({ hasText: "see you at five" });
    await mine.locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
    // Narrowed step by step as a narrower panel would: at each width the time and its ticks share one line.
    const broken = await mine.evaluate((li: HTMLElement) => {
      const tick = li.querySelector("[data-status]")!;
      let start: ChildNode = tick;
      while (start.previousSibling?.nodeType === Node.TEXT_NODE) start = start.previousSibling;
      const stamp = document.createRange();
      stamp.setStartBefore(start);
      stamp.setEndAfter(tick);
      const widths: number[] = [];
      for (let width = 300; width >= 60; width -= 2) {
        li.style.maxWidth = `${width}px`;
        const tops = new Set([...stamp.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) widths.push(width);
      }
      li.style.maxWidth = "";
      return widths;
    });
    expect(broken).toEqual([]);
  });
});
