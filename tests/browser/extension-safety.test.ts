import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { createInPanel, launchWithExtension, type LoadedExtension, registerInTab } from "./extension-harness.js";
import { ARTIFACTS, openTab } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 19540;
const INSPECTOR_BASE = 20540;

const BOB = "bob#im.bob.test";

// Alice uses the extension's side panel (at a side panel's width) on im.alice.test; Bob uses the PWA
// of im.bob.test in a tab of the same browser. Alice compares safety numbers with Bob, marks him
// verified and names him, as a PWA user can; and she is warned when the key pinned for him changes.
describe("safety numbers and nicknames in the extension's side panel", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let panel: Page;
  let bob: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-safety-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
  }, 300_000);

  afterAll(async () => {
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const friendRow = () => panel.locator(`[data-testid=friend][data-address="${BOB}"]`);
  const dialog = () => panel.getByTestId("safety-dialog");
  const shot = (name: string) => panel.screenshot({ path: join(ARTIFACTS, `extension-${name}.png`) });
  const panelTab = async (name: "Chats" | "Friends") => {
    if ((await panel.getByRole("button", { name: "Back to chats" }).count()) > 0) await panel.getByRole("button", { name: "Back to chats" }).click();
    await panel.getByRole("tab", { name }).click();
  };
  /** The 12 groups of five digits the open safety dialog on `page` shows. */
  const shownNumber = async (page: Page) => {
    const grid = page.getByTestId("safety-dialog").getByTestId("safety-number");
    await grid.waitFor({ timeout: 30_000 });
    const groups = await grid.locator("span").allTextContents();
    expect(groups).toHaveLength(12);
    expect(groups.every((g) => /^\d{5}$/.test(g))).toBe(true);
    return groups.join(" ");
  };

  it("alice (extension) and bob (PWA) become friends and exchange a first message", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);
    await panel.setViewportSize({ width: 360, height: 760 });
    bob = await registerInTab(ext, servers.origins["im.bob.test"]!, "bob");

    await panel.getByRole("tab", { name: "Friends" }).click();
    await panel.getByLabel("Address or emsg: link").fill(BOB);
    await panel.getByRole("button", { name: "Send request" }).click();
    await openTab(bob, "Friends");
    await bob.getByTestId("incoming").getByTestId("person").filter({ hasText: "alice#im.alice.test" }).getByRole("button", { name: "Accept" }).click({ timeout: 60_000 });
    await friendRow().getByRole("button", { name: "Message" }).click({ timeout: 90_000 });
    const composer = panel.getByLabel("Message", { exact: true });
    await composer.fill("Is this really you?");
    await composer.press("Enter");
    await panel.getByRole("list", { name: "Messages" }).locator("li").filter({ hasText: "Is this really you?" }).getByLabel(/Sent|Delivered/).waitFor({ timeout: 30_000 });
  }, 240_000);

  it("shows alice the number bob's PWA shows, with her code and no camera; marked verified, bob's row and chat say so", async () => {
    await bob.getByTestId("friend-list").getByRole("button", { name: "Safety number" }).click({ timeout: 30_000 });
    const bobsNumber = await shownNumber(bob);
    await bob.keyboard.press("Escape");

    await panelTab("Friends");
    await friendRow().getByRole("button", { name: "Safety number" }).click();
    await dialog().getByText(`Safety number with ${BOB}`).waitFor();
    expect(await shownNumber(panel)).toBe(bobsNumber);
    await dialog().getByRole("img", { name: "QR code for alice#im.alice.test" }).locator("svg").waitFor();
    // The side panel has no camera prompt: the numbers are compared by eye.
    expect(await dialog().getByRole("button", { name: "Scan their code" }).count()).toBe(0);
    await dialog().getByText("let their phone scan your code").waitFor();
    await shot("safety-number");
    expect(await friendRow().getByText("Verified").count()).toBe(0);

    await dialog().getByRole("button", { name: "Mark as verified" }).click();
    await dialog().getByRole("button", { name: "Clear verification" }).waitFor();
    await dialog().getByRole("button", { name: "Close" }).click();
    await dialog().waitFor({ state: "detached" });
    await friendRow().getByText("Verified").waitFor();

    // The 1:1 chat's header says it too, and opens the same dialog.
    await friendRow().getByRole("button", { name: "Message" }).click();
    await panel.getByTestId("peer-verified").waitFor();
    await panel.getByRole("button", { name: "Verify" }).click();
    expect(await shownNumber(panel)).toBe(bobsNumber);
    await dialog().getByRole("button", { name: "Clear verification" }).waitFor();
    await panel.keyboard.press("Escape");
    await dialog().waitFor({ state: "detached" });
  });

  it("keeps the mark after the panel is opened again", async () => {
    await panel.reload();
    await panelTab("Friends");
    await friendRow().getByText("Verified").waitFor({ timeout: 30_000 });
  });

  it("names bob with a nickname in the friend list, which the chat list and chat show", async () => {
    await friendRow().getByRole("button", { name: "Nickname" }).click();
    await friendRow().getByLabel(`A name for ${BOB} that only you see`, { exact: false }).fill("Bobby Tables");
    await shot("friend-nickname-form");
    await friendRow().getByRole("button", { name: "Save" }).click();
    await expect.poll(() => friendRow().textContent()).toContain(`Bobby Tables (${BOB})`);
    await shot("friend-nickname");

    await panelTab("Chats");
    const row = panel.getByTestId("chat-row").filter({ hasText: "Bobby Tables" });
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await panel.getByRole("heading", { name: "Bobby Tables" }).waitFor();
  });

  it("warns in bob's row and chat when his key is not the one first pinned, until alice verifies again", async () => {
    // As if the key pinned for Bob changed since this device first saw it: the one remembered is another.
    await panel.evaluate(async (address) => {
      const db = await new Promise<IDBDatabase>((done, fail) => {
        const open = indexedDB.open("emsg-store");
        open.onsuccess = () => done(open.result);
        open.onerror = () => fail(open.error);
      });
      await new Promise<void>((done, fail) => {
        const tx = db.transaction("entries", "readwrite");
        tx.objectStore("entries").put(JSON.stringify({ key: "A".repeat(43), verified: true }), `pwa/key/${address}`);
        tx.oncomplete = () => done();
        tx.onerror = () => fail(tx.error);
      });
      db.close();
    }, BOB);
    await panel.reload();
    await panel.getByRole("tab", { name: "Chats" }).waitFor({ timeout: 30_000 });
    await panel.getByTestId("chat-row").filter({ hasText: "Bobby Tables" }).click();
    const warning = `${BOB}'s key changed. Compare safety numbers again before trusting new messages.`;
    await panel.getByRole("alert").filter({ hasText: warning }).waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId("peer-verified").count()).toBe(0);
    await shot("key-changed");

    await panelTab("Friends");
    await friendRow().getByRole("alert").filter({ hasText: warning }).waitFor();
    expect(await friendRow().getByText("Verified").count()).toBe(0);
    // Comparing again and marking him verified accepts the key he has now.
    await friendRow().getByRole("button", { name: "Safety number" }).click();
    await dialog().getByRole("button", { name: "Mark as verified" }).click();
    await dialog().getByRole("button", { name: "Close" }).click();
    await friendRow().getByText("Verified").waitFor();
    expect(await friendRow().getByRole("alert").count()).toBe(0);
  });
});
