import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { launchWithExtension, type LoadedExtension } from "./extension-harness.js";

// Alice's other device (the core, as the PWA runs it) removes the extension from her account.
const PORT_BASE = 19950;
const INSPECTOR_BASE = 20950;

describe("the extension removed from its account by another device", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let alice: EmsgClient;
  let panel: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-removed-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    alice = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await alice.register("alice#im.alice.test", { label: "alice's PWA" });
  }, 180_000);

  afterAll(async () => {
    alice?.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  async function link(): Promise<void> {
    const { code } = await alice.startDeviceLink();
    await panel.getByLabel("Link code").fill(code);
    await panel.getByLabel(/Server URL/).fill(servers.origins["im.alice.test"]!);
    await panel.getByRole("button", { name: "Link this device" }).click();
    await expect.poll(() => panel.locator(".who").textContent(), { timeout: 60_000 }).toBe("alice#im.alice.test");
    await panel.getByText("Online").waitFor({ timeout: 30_000 });
  }

  it("is linked to Alice's account", async () => {
    panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await link();
  });

  it("says it was removed, instead of 'Connecting…' for ever", async () => {
    const mine = (await alice.devices()).find((d) => d.label === "browser extension")!;
    await alice.removeDevice(mine.deviceId);
    const removed = panel.getByTestId("removed-device");
    await removed.getByText("This device was removed from your account alice#im.alice.test.").waitFor({ timeout: 30_000 });
    expect(await panel.getByText("Connecting…").count()).toBe(0);
    expect(await panel.getByText("Offline", { exact: true }).count()).toBe(0);
    // Opened again (the service worker's state, not the page's), it still says so.
    await panel.reload();
    await removed.getByText("This device was removed from your account alice#im.alice.test.").waitFor({ timeout: 30_000 });
  });

  it("'Link again' deletes what it holds, once confirmed, and opens the link form, through which it is linked anew", async () => {
    const removed = panel.getByTestId("removed-device");
    await removed.getByRole("button", { name: "Link again" }).click();
    await removed.getByRole("button", { name: "Delete from this device" }).click();
    await panel.getByLabel("Link code").waitFor({ timeout: 20_000 });
    await link();
    expect((await alice.devices()).map((d) => d.label)).toEqual(["alice's PWA", "browser extension"]);
    expect(await panel.getByTestId("removed-device").count()).toBe(0);
  });
});
