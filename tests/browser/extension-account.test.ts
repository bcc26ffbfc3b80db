import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { readAccountArchive } from "../../shared/account-archive.js";
import { createInPanel, launchWithExtension, type LoadedExtension } from "./extension-harness.js";
import { ARTIFACTS } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 19560;
const INSPECTOR_BASE = 20560;

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const PASSPHRASE = "milk and honey";

// Alice's account lives in the extension's side panel. From its Settings she links a second device
// (a client of the core, as her laptop's), removes it again, stars a message Bob sent and finds it
// under Favorites, exports her account, and at last deletes it, as the PWA lets her.
describe("devices, favorites, the export and deleting the account in the extension", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let panel: Page;
  let bob: EmsgClient;
  let laptop: EmsgClient;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-account-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    bob = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await bob.register(BOB, { label: "bob's laptop" });
  }, 300_000);

  afterAll(async () => {
    bob?.disconnect();
    laptop?.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const shot = (name: string) => panel.screenshot({ path: join(ARTIFACTS, `extension-${name}.png`), fullPage: true });
  const devices = () => panel.getByTestId("devices");
  const deviceRows = () => devices().getByTestId("device");
  const openTab = async (name: RegExp) => {
    if ((await panel.getByRole("button", { name: "Back to chats" }).count()) > 0) await panel.getByRole("button", { name: "Back to chats" }).click();
    await panel.getByRole("tab", { name }).click();
  };

  it("lists this browser as the account's one device, then also the device linked with the code it shows", async () => {
    panel = await createInPanel(ext, ALICE, servers.origins["im.alice.test"]!);
    await panel.setViewportSize({ width: 360, height: 900 });
    await openTab(/Settings/);
    await expect.poll(() => deviceRows().count(), { timeout: 30_000 }).toBe(1);
    expect(await deviceRows().innerText()).toContain("browser extension");
    expect(await deviceRows().innerText()).toContain("This device");
    // The one device is this one: nothing to remove.
    expect(await deviceRows().getByRole("button", { name: "Remove" }).count()).toBe(0);

    await devices().getByRole("button", { name: "Link a new device" }).click();
    await devices().getByRole("img", { name: "QR code to scan on the new device" }).waitFor({ timeout: 30_000 });
    const code = await devices().getByLabel("Link code").inputValue();
    expect(code).toMatch(/^emsg-link:1:/);
    await expect.poll(() => devices().innerText()).toMatch(/Works for \d+:\d\d more/);
    await shot("link-offer");

    laptop = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await laptop.linkDevice(code, { label: "alice's laptop" });
    await devices().getByText("alice's laptop is now linked to your account.").waitFor({ timeout: 60_000 });
    await expect.poll(() => deviceRows().allInnerTexts(), { timeout: 30_000 }).toEqual([expect.stringContaining("browser extension"), expect.stringContaining("alice's laptop")]);
    expect(await devices().getByLabel("Link code").count()).toBe(0);
  }, 240_000);

  it("removes the other device once asked again, and it leaves the list and the account", async () => {
    const other = deviceRows().filter({ hasText: "alice's laptop" });
    await other.getByRole("button", { name: "Remove" }).click();
    await other.getByText("Remove alice's laptop from your account?").waitFor();
    // Keep takes the question back; nothing is removed.
    await other.getByRole("button", { name: "Keep" }).click();
    expect(await deviceRows().count()).toBe(2);

    await other.getByRole("button", { name: "Remove" }).click();
    await other.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => deviceRows().count(), { timeout: 30_000 }).toBe(1);
    expect(await deviceRows().innerText()).toContain("This device");
    // The server no longer knows it: the laptop is refused as a removed device.
    await expect(laptop.devices()).rejects.toThrow();
  }, 120_000);

  it("stars Bob's message, which Favorites then lists until its star is taken off there", async () => {
    await openTab(/Friends/);
    await panel.getByLabel("Address or emsg: link").fill(BOB);
    await panel.getByRole("button", { name: "Send request" }).click();
    await expect.poll(async () => {
      await bob.sync();
      return (await bob.friends()).some((f) => f.state === "incoming");
    }, { timeout: 60_000, interval: 500 }).toBe(true);
    await bob.acceptFriend(ALICE);
    await bob.connect();
    // Bob's acceptance has come when his row offers a chat.
    await panel.locator(`[data-testid=friend][data-address="${BOB}"]`).getByRole("button", { name: "Message" }).waitFor({ timeout: 60_000 });
    await bob.sendText(ALICE, "Remember the milk");

    await openTab(/Chats/);
    const chats = panel.getByRole("list", { name: "Chats" });
    await chats.getByText(BOB).first().click({ timeout: 60_000 });
    const message = panel.getByRole("list", { name: "Messages" }).locator("li").filter({ hasText: "Remember the milk" });
    await message.waitFor({ timeout: 60_000 });
    await message.getByRole("button", { name: "Star message" }).click();
    await expect.poll(() => message.getByRole("button", { name: "Remove star" }).getAttribute("aria-pressed")).toBe("true");

    await openTab(/Favorites/);
    const favorite = panel.getByTestId("favorite");
    await expect.poll(() => favorite.count(), { timeout: 30_000 }).toBe(1);
    expect(await favorite.innerText()).toContain("Remember the milk");
    expect(await favorite.innerText()).toContain(`with ${BOB}`);
    await shot("favorites");

    // Open chat goes back to the message, still starred.
    await favorite.getByRole("button", { name: "Open chat" }).click();
    await message.getByRole("button", { name: "Remove star" }).waitFor({ timeout: 30_000 });

    await openTab(/Favorites/);
    await favorite.getByRole("button", { name: "Remove star" }).click();
    await expect.poll(() => favorite.count(), { timeout: 30_000 }).toBe(0);
    await panel.getByText("Star a message to keep it here.", { exact: false }).waitFor();
  }, 240_000);

  it("exports the account, sealed with a passphrase, to a file that opens with Bob and the starred message in it", async () => {
    await openTab(/Chats/);
    await panel.getByRole("list", { name: "Chats" }).getByText(BOB).first().click();
    await panel.getByRole("list", { name: "Messages" }).locator("li").filter({ hasText: "Remember the milk" }).getByRole("button", { name: "Star message" }).click();
    await openTab(/Settings/);
    const form = panel.getByTestId("export-account");
    const button = form.getByRole("button", { name: "Export", exact: true });
    await form.getByLabel("Export passphrase").fill("short");
    expect(await button.isDisabled()).toBe(true);
    await form.getByLabel("Export passphrase").fill(PASSPHRASE);
    const [download] = await Promise.all([panel.waitForEvent("download", { timeout: 120_000 }), button.click()]);
    const day = new Date().toISOString().slice(0, 10);
    expect(download.suggestedFilename()).toBe(`emsg-alice_im.alice.test-${day}.emsg`);
    await form.getByText(`Saved emsg-alice_im.alice.test-${day}.emsg.`).waitFor({ timeout: 30_000 });
    await shot("settings");
    const saved = join(persistRoot, "export.emsg");
    await download.saveAs(saved);
    const contents = await readAccountArchive(readFileSync(saved, "utf8"), PASSPHRASE);
    expect(contents.address).toBe(ALICE);
    expect(contents.friends.map((f) => f.address)).toContain(BOB);
    expect(contents.favorites.map((f) => f.text)).toEqual(["Remember the milk"]);
  }, 180_000);

  it("deletes the account once its address is typed: the extension is back at setup, and Bob is told she is gone", async () => {
    await openTab(/Settings/);
    const form = panel.getByTestId("delete-account");
    const button = form.getByRole("button", { name: "Delete my account for good" });
    expect(await button.isDisabled()).toBe(true);
    await form.getByLabel(`Type ${ALICE} to confirm`).fill("alice#im.alice");
    expect(await button.isDisabled()).toBe(true);
    await form.getByLabel(`Type ${ALICE} to confirm`).fill(` ${ALICE.toUpperCase()} `);
    await button.click();

    await panel.getByTestId("account-deleted").filter({ hasText: "Your account has been deleted." }).waitFor({ timeout: 60_000 });
    await panel.getByRole("button", { name: "Create my address" }).waitFor();
    expect(await panel.locator(".who").count()).toBe(0);
    await expect.poll(async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === ALICE)?.state;
    }, { timeout: 60_000, interval: 500 }).toBe("gone");
  }, 120_000);
});
