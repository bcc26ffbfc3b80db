import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { FavoriteCopy } from "../../shared/account-archive.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { launchWithExtension, type LoadedExtension } from "./extension-harness.js";
import { ARTIFACTS } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 19600;
const INSPECTOR_BASE = 20600;

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const CAROL = "carol#im.alice.test";
const DAVE = "dave#im.bob.test";
const MOVED = "alice#im.bob.test";
const PASSPHRASE = "correct horse battery staple";

// Alice used EMSG elsewhere (a client of the core, as the CLI is) and exported her account. In a
// fresh browser she moves it into the extension at setup, as a new address on im.bob.test, and
// finds Bob and their chat there; then, in Settings, she moves her other old account (Carol's) in.
describe("moving an exported account into the extension", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let panel: Page;
  const clients: EmsgClient[] = [];

  const client = async (address: string) => {
    const c = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await c.register(address, { label: `${address}'s laptop` });
    clients.push(c);
    return c;
  };

  /** `a` and `b` become friends, then `a` says `text` (the record sent): the history an export carries. */
  const chatted = async (a: EmsgClient, b: EmsgClient, text: string) => {
    await a.sendFriendRequest(b.address);
    await expect.poll(async () => {
      await b.sync();
      return (await b.friends()).find((f) => f.address === a.address)?.state;
    }, { timeout: 60_000, interval: 500 }).toBe("incoming");
    await b.acceptFriend(a.address);
    await expect.poll(async () => {
      await a.sync();
      return (await a.friends()).find((f) => f.address === b.address)?.state;
    }, { timeout: 60_000, interval: 500 }).toBe("friend");
    return a.sendText(b.address, text);
  };

  /** The account sealed with PASSPHRASE (with `favorites` starred), saved where the panel's file input picks it up. */
  const exported = async (c: EmsgClient, file: string, favorites: FavoriteCopy[] = []) => {
    const path = join(persistRoot, file);
    writeFileSync(path, JSON.stringify(await c.exportAccount(PASSPHRASE, { favorites })));
    return path;
  };

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-import-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
  }, 300_000);

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const shot = (name: string) => panel.screenshot({ path: join(ARTIFACTS, `extension-${name}.png`), fullPage: true });
  const openTab = async (name: RegExp) => {
    if ((await panel.getByRole("button", { name: "Back to chats" }).count()) > 0) await panel.getByRole("button", { name: "Back to chats" }).click();
    await panel.getByRole("tab", { name }).click();
  };

  it("moves Alice's export in at setup: a wrong passphrase is said plainly, then Bob, their chat and her starred message are here", async () => {
    const alice = await client(ALICE);
    const bob = await client(BOB);
    const hello = await chatted(alice, bob, "Hello from my old address");
    const archive = await exported(alice, "alice.emsg", [{ id: hello.id, peer: BOB, from: ALICE, text: hello.text, at: hello.at }]);

    panel = await ext.context.newPage();
    await panel.setViewportSize({ width: 360, height: 900 });
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByRole("button", { name: "Move an account here" }).click();
    const form = panel.getByTestId("move-form");
    await form.getByRole("heading", { name: "Move an account here" }).waitFor();
    const submit = form.getByRole("button", { name: "Move it here" });
    expect(await submit.isDisabled()).toBe(true);
    await form.getByLabel("Export file").setInputFiles(archive);
    await form.getByLabel("Passphrase of the export").fill("not the passphrase");
    await form.getByLabel(/Your new EMSG address/).fill(MOVED);
    await form.getByLabel(/Server URL/).fill(servers.origins["im.bob.test"]!);
    await submit.click();
    await form.getByRole("alert").getByText("That passphrase does not open this file.").waitFor({ timeout: 60_000 });
    await shot("move-in-wrong-passphrase");

    await form.getByLabel("Passphrase of the export").fill(PASSPHRASE);
    await submit.click();
    // The background's steps, shown as they come.
    await form.getByTestId("move-progress").waitFor({ timeout: 30_000 });
    await panel.locator(".who").filter({ hasText: MOVED }).waitFor({ timeout: 120_000 });
    // The setup form is gone: what the move did, and what it could not, is said above the tabs until dismissed.
    const summary = panel.getByTestId("move-summary");
    await summary.getByRole("heading", { name: "Your account moved here" }).waitFor();
    // Here the old server is not reached (only the new one is routed): the move says so.
    expect(await summary.locator("p").allInnerTexts()).toEqual([`${ALICE} now lives here as ${MOVED}; 1 friend was told.`, "im.alice.test could not be reached; it will be told later."]);
    await shot("move-in-summary");
    await summary.getByRole("button", { name: "Got it" }).click();
    await summary.waitFor({ state: "detached" });

    await openTab(/Friends/);
    await panel.locator(`[data-testid=friend][data-address="${BOB}"]`).waitFor({ timeout: 30_000 });
    await shot("move-in-friends");
    await openTab(/Chats/);
    await panel.getByRole("list", { name: "Chats" }).getByText(BOB).first().click({ timeout: 30_000 });
    // The history came along, as her own words.
    await panel.getByRole("list", { name: "Messages" }).locator("li").filter({ hasText: "Hello from my old address" }).waitFor({ timeout: 30_000 });
    await openTab(/Favorites/);
    await expect.poll(() => panel.getByTestId("favorite").allInnerTexts(), { timeout: 30_000 }).toEqual([expect.stringContaining("Hello from my old address")]);
  }, 300_000);

  it("moves Carol's old account into this one from Settings: its summary is said, and Dave and their chat are here", async () => {
    const carol = await client(CAROL);
    const dave = await client(DAVE);
    await chatted(carol, dave, "Dave, it's Carol");
    const archive = await exported(carol, "carol.emsg");

    await openTab(/Settings/);
    const section = panel.getByTestId("import-section");
    await section.getByText(`its friends become friends of ${MOVED}`).waitFor();
    await section.getByLabel("Export file").setInputFiles(archive);
    await section.getByLabel("Passphrase of the export").fill(PASSPHRASE);
    await section.getByRole("button", { name: "Move it here" }).click();
    await section.getByText(`${CAROL} now lives here as ${MOVED}; 1 friend was told.`).waitFor({ timeout: 120_000 });
    await section.scrollIntoViewIfNeeded();
    await shot("settings-import");

    await openTab(/Friends/);
    await panel.locator(`[data-testid=friend][data-address="${DAVE}"]`).waitFor({ timeout: 30_000 });
    expect(await panel.locator(`[data-testid=friend][data-address="${BOB}"]`).count()).toBe(1);
    await openTab(/Chats/);
    await panel.getByRole("list", { name: "Chats" }).getByText(DAVE).first().click({ timeout: 30_000 });
    await panel.getByRole("list", { name: "Messages" }).locator("li").filter({ hasText: "Dave, it's Carol" }).waitFor({ timeout: 30_000 });
  }, 300_000);
});
