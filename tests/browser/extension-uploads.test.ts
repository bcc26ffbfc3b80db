import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { createInPanel, launchWithExtension, type LoadedExtension, registerInTab } from "./extension-harness.js";
import { ARTIFACTS } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 19200;
const INSPECTOR_BASE = 20200;

// Alice sends a file from the extension's side panel while her server is down. The background
// keeps it sealed in its own IndexedDB, so when the browser stops its service worker (MV3 does when
// it is idle; here through DevTools' ServiceWorker.stopWorker) the file is not lost: the woken
// background uploads it once the server is back, and Bob, in the PWA of the other domain, saves it whole.
describe("a file sent from the extension while offline survives its background being stopped", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let panel: Page;
  let bob: Page;
  const file = Buffer.alloc(7 * 1_048_576);
  for (let i = 0; i < file.length; i += 4) file.writeUInt32LE(((i + 11) * 2654435761) >>> 0, i);
  const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

  // What the background says (an upload waiting, failing or going on) shows in the test's output.
  const listen = (worker: { on(event: "console", listener: (m: { text(): string }) => void): unknown }) => worker.on("console", (m) => console.log(`[background] ${m.text()}`));

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-uploads-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    listen(ext.worker);
  }, 300_000);

  afterAll(async () => {
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  /** A message's delivery mark: none while it is still sending, then sent, delivered, read or failed. */
  const status = async (page: Page, name: string) => {
    const tick = page.getByTestId("message").filter({ hasText: name }).locator("[data-status]");
    return (await tick.count()) === 0 ? "sending" : tick.getAttribute("data-status");
  };
  /** The keys of the background's kept uploads (extension/platform/uploads-database.ts). */
  const keptKeys = async (): Promise<string[]> => {
    const worker = ext.context.serviceWorkers()[0] ?? (await ext.context.waitForEvent("serviceworker", { timeout: 30_000 }));
    return worker.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open("emsg-uploads");
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains("uploads")) return resolve([]);
            const keys = db.transaction("uploads").objectStore("uploads").getAllKeys();
            keys.onsuccess = () => resolve(keys.result.map(String));
            keys.onerror = () => reject(keys.error);
          };
        }),
    );
  };

  it("alice (extension) and bob (PWA) become friends, and alice opens their chat", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);
    await panel.setViewportSize({ width: 360, height: 760 });
    bob = await registerInTab(ext, servers.origins["im.bob.test"]!, "bob");
    await panel.getByRole("tab", { name: "Friends" }).click();
    await panel.getByLabel("Address or emsg: link").fill("bob#im.bob.test");
    await panel.getByRole("button", { name: "Send request" }).click();
    await bob.getByRole("navigation").getByRole("button", { name: "Friends" }).click();
    const request = bob.getByTestId("incoming").getByTestId("person").filter({ hasText: "alice#im.alice.test" });
    await request.getByRole("button", { name: "Accept" }).click({ timeout: 60_000 });
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).click({ timeout: 90_000 });
    // The first message makes the chat on the server; a file sent offline then needs nothing else from it.
    const composer = panel.getByLabel("Message", { exact: true });
    await composer.fill("Notes from the field follow");
    await composer.press("Enter");
    await expect.poll(() => status(panel, "Notes from the field follow"), { timeout: 90_000 }).toMatch(/^(sent|delivered|read)$/);
  }, 240_000);

  it("sent with alice's server down, the file is kept sealed; the background is stopped; back up, bob gets it whole", async () => {
    onTestFailed(async () => void (await panel.screenshot({ path: join(ARTIFACTS, "extension-uploads-failed.png") })));
    await servers.stop("im.alice.test");
    await panel.getByTestId("file-input").setInputFiles({ name: "field-notes.bin", mimeType: "application/octet-stream", buffer: file });
    await panel.getByTestId("attachment").filter({ hasText: "field-notes.bin" }).waitFor({ timeout: 60_000 });
    // Sealed into the background's IndexedDB: two parts of 5 MiB, and the picked file no longer kept.
    await expect.poll(async () => (await keptKeys()).map((k) => k.split("/")[1]).sort(), { timeout: 60_000 }).toEqual(["1", "2"]);
    expect(await status(panel, "field-notes.bin")).toBe("sending");

    // The background stops, as Chrome stops an idle one (MV3): all it held in memory is gone.
    const cdp = await ext.context.newCDPSession(panel);
    type Version = { versionId: string; scriptURL: string; runningStatus: string };
    const versions = new Map<string, Version>();
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions: updated }: { versions: Version[] }) => {
      for (const version of updated) versions.set(version.versionId, version);
    });
    await cdp.send("ServiceWorker.enable");
    const ours = () => [...versions.values()].filter((version) => version.scriptURL.startsWith(`chrome-extension://${ext.id}/`));
    await expect.poll(() => ours().some((version) => version.runningStatus === "running"), { timeout: 30_000 }).toBe(true);
    const running = ours().find((version) => version.runningStatus === "running")!;
    await cdp.send("ServiceWorker.stopWorker", { versionId: running.versionId });
    await expect.poll(() => versions.get(running.versionId)?.runningStatus, { timeout: 30_000 }).toBe("stopped");
    await servers.restart("im.alice.test");
    // Anything the panel asks wakes the background, which connects and goes on with the upload.
    ext.context.once("serviceworker", listen);
    await panel.reload();
    await panel.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click({ timeout: 60_000 });
    await expect.poll(() => status(panel, "field-notes.bin"), { timeout: 120_000 }).toMatch(/^(sent|delivered|read)$/);
    await expect.poll(keptKeys, { timeout: 30_000 }).toEqual([]);

    await bob.getByRole("navigation").getByRole("button", { name: "Chats" }).click();
    await bob.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click({ timeout: 90_000 });
    const card = bob.getByTestId("attachment").filter({ hasText: "field-notes.bin" });
    await card.getByTestId("file-download").waitFor({ timeout: 120_000 });
    const [download] = await Promise.all([bob.waitForEvent("download", { timeout: 120_000 }), card.getByTestId("file-download").click()]);
    expect(download.suggestedFilename()).toBe("field-notes.bin");
    expect(sha256(await readFile((await download.path())!))).toBe(sha256(file));
  }, 420_000);
});
