import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport } from "../../cli/node-transport.js";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { createInPanel, launchWithExtension, type LoadedExtension } from "./extension-harness.js";

// Ports of this file alone.
const PORT_BASE = 19750;
const INSPECTOR_BASE = 20750;

type Chrome = { storage: { local: { get(k: null): Promise<Record<string, unknown>>; set(items: Record<string, unknown>): Promise<void> } } };

/**
 * The extension's entries as its service worker's store holds them, in the form an earlier version
 * kept in extension storage: key -> JSON text, and each message's key under each of its ids.
 */
const storedEntries = (ext: LoadedExtension) =>
  ext.worker.evaluate(
    () =>
      new Promise<Record<string, string>>((done, fail) => {
        const open = indexedDB.open("emsg-store");
        open.onerror = () => fail(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction("entries", "readonly");
          const [keys, values] = [tx.objectStore("entries").getAllKeys(), tx.objectStore("entries").getAll()];
          tx.oncomplete = () => {
            open.result.close();
            const entries: Record<string, string> = {};
            (keys.result as string[]).forEach((key, i) => {
              const value = values.result[i] as string | { text: string; ids: string[] };
              if (typeof value === "string") return void (entries[key] = value);
              entries[key] = value.text;
              for (const id of value.ids) entries[`msgid/${id}`] = JSON.stringify(key);
            });
            done(entries);
          };
        };
      }),
  );

const oldKeys = (ext: LoadedExtension) =>
  ext.worker.evaluate(async () => Object.keys(await (globalThis as unknown as { chrome: Chrome }).chrome.storage.local.get(null)).filter((key) => key.startsWith("emsg:")));

// Alice has used the extension with Bob; the extension is updated from a version that kept its
// store in extension storage (storage.local, "emsg:" + key -> JSON text, up to 564186b) to this
// one's IndexedDB. Her account, friend and messages are there after the update, and she goes on.
describe("updating the extension from the storage.local store", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let profile: string;
  let ext: LoadedExtension;
  let bob: EmsgClient;
  let panel: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-update-"));
    profile = mkdtempSync(join(tmpdir(), "emsg-ext-update-profile-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension(undefined, undefined, [], profile);
    bob = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await bob.register("bob#im.bob.test", { label: "bob's laptop" });
  }, 180_000);

  afterAll(async () => {
    bob?.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const timeline = () => panel.getByRole("list", { name: "Messages" });

  it("alice befriends bob in the panel and they exchange messages", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);
    await panel.getByRole("tab", { name: "Friends" }).click();
    await panel.getByLabel("Address or emsg: link").fill("bob#im.bob.test");
    await panel.getByRole("button", { name: "Send request" }).click();
    await expect
      .poll(async () => {
        await bob.sync();
        return (await bob.friends()).find((f) => f.address === "alice#im.alice.test")?.state;
      }, { timeout: 60_000, interval: 500 })
      .toMatch(/incoming|held/);
    await bob.acceptFriend("alice#im.alice.test");
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).click({ timeout: 90_000 });
    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("Before the update");
    await composer.press("Enter");
    await expect
      .poll(async () => {
        await bob.sync();
        return (await bob.history("alice#im.alice.test")).map((m) => m.text);
      }, { timeout: 60_000, interval: 500 })
      .toContain("Before the update");
    await bob.sendText("alice#im.alice.test", "Got it, before the update");
    await bob.flush();
    await expect.poll(() => timeline().innerText(), { timeout: 90_000 }).toContain("Got it, before the update");
  }, 240_000);

  it("after the update from a store in extension storage, alice's chat with bob is all there and goes on", async () => {
    // The profile as the earlier version left it: every entry in storage.local, no IndexedDB store.
    const entries = await storedEntries(ext);
    expect(Object.keys(entries)).toContain("account");
    await ext.worker.evaluate(
      (entries) => (globalThis as unknown as { chrome: Chrome }).chrome.storage.local.set(Object.fromEntries(Object.entries(entries).map(([key, text]) => [`emsg:${key}`, text]))),
      entries,
    );
    const id = ext.id;
    await ext.close();
    const databases = join(profile, "Default", "IndexedDB");
    const origin = readdirSync(databases).filter((name) => name.startsWith(`chrome-extension_${id}_`));
    expect(origin.length).toBeGreaterThan(0);
    for (const name of origin) rmSync(join(databases, name), { recursive: true, force: true });

    ext = await launchWithExtension(undefined, undefined, [], profile);
    expect(ext.id).toBe(id);
    panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.locator(".who").filter({ hasText: "alice#im.alice.test" }).waitFor({ timeout: 30_000 });
    await panel.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click({ timeout: 30_000 });
    await expect.poll(() => timeline().innerText(), { timeout: 30_000 }).toMatch(/Before the update[\s\S]*Got it, before the update/);
    // Every entry moved; the background may have written more since it started, and sent (and so removed) what its queue held.
    // The index entries became the ids their messages carry (storedEntries gives them back).
    const kept = Object.keys(entries).filter((key) => !key.startsWith("out/"));
    expect(kept.filter((key) => key.startsWith("msgid/")).length).toBeGreaterThan(0);
    expect(Object.keys(await storedEntries(ext))).toEqual(expect.arrayContaining(kept));
    expect(await oldKeys(ext)).toEqual([]);

    // The moved keys and conversation state still work both ways.
    await bob.sendText("alice#im.alice.test", "After the update");
    await bob.flush();
    await expect.poll(() => timeline().innerText(), { timeout: 90_000 }).toContain("After the update");
    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("Still here");
    await composer.press("Enter");
    await expect
      .poll(async () => {
        await bob.sync();
        return (await bob.history("alice#im.alice.test")).map((m) => m.text);
      }, { timeout: 60_000, interval: 500 })
      .toContain("Still here");
  }, 240_000);
});
