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

// Alice already uses EMSG in another client (the core, as the PWA runs it) and links the extension to it.
const PORT_BASE = 8865;
const INSPECTOR_BASE = 9465;

describe("the extension linked as a device of an existing account", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let alice: EmsgClient;
  let bob: EmsgClient;
  let panel: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-link-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    alice = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    bob = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await alice.register("alice#im.alice.test", { label: "alice's PWA" });
    await bob.register("bob#im.bob.test", { label: "bob's laptop" });
  }, 180_000);

  afterAll(async () => {
    alice?.disconnect();
    bob?.disconnect();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  it("starts with Alice and Bob as friends who have chatted", async () => {
    await alice.sendFriendRequest("bob#im.bob.test");
    await expect.poll(async () => {
      await bob.sync();
      return (await bob.friends()).some((f) => f.state === "incoming");
    }, { timeout: 30_000, interval: 300 }).toBe(true);
    await bob.acceptFriend("alice#im.alice.test");
    await expect.poll(async () => {
      await alice.sync();
      return (await alice.friends()).some((f) => f.state === "friend");
    }, { timeout: 30_000, interval: 300 }).toBe(true);
    await alice.connect();
    await bob.connect();
    await alice.sendText("bob#im.bob.test", "hello from Alice's PWA");
    await expect.poll(async () => (await bob.history("alice#im.alice.test")).length, { timeout: 30_000 }).toBe(1);
  });

  it("links with the code the other client shows, and knows Alice's friends at once", async () => {
    const { code } = await alice.startDeviceLink();
    panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await panel.getByLabel("Link code").fill(code);
    await panel.getByLabel(/Server URL/).fill(servers.origins["im.alice.test"]!);
    await panel.getByRole("button", { name: "Link this device" }).click();
    await expect.poll(() => panel.locator(".who").textContent(), { timeout: 60_000 }).toBe("alice#im.alice.test");
    await panel.getByRole("tab", { name: /Friends/ }).click();
    await expect.poll(() => panel.getByRole("list", { name: "Friends" }).innerText(), { timeout: 30_000 }).toContain("bob#im.bob.test");
    expect((await alice.devices()).map((d) => d.label)).toEqual(["alice's PWA", "browser extension"]);
  });

  it("reads Bob's next message in the existing conversation, and what Alice sends from the extension reaches Bob", async () => {
    await panel.getByRole("tab", { name: /Chats/ }).click();
    // Bob's chat is listed at once, with what the link brought of it; the extension reads what is
    // sent once the PWA added it to the conversation.
    const chats = panel.getByRole("list", { name: "Chats" });
    await expect.poll(() => chats.getByText("bob#im.bob.test").count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await bob.sendText("alice#im.alice.test", "Bob here, to all your devices");
    await chats.getByText("bob#im.bob.test").first().click();
    const timeline = panel.getByRole("list", { name: "Messages" });
    await expect.poll(() => timeline.innerText(), { timeout: 60_000 }).toContain("Bob here, to all your devices");
    await expect.poll(async () => (await alice.history("bob#im.bob.test")).map((m) => m.text), { timeout: 30_000 }).toContain("Bob here, to all your devices");

    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("sent from the extension");
    await composer.press("Enter");
    await expect.poll(async () => (await bob.history("alice#im.alice.test")).map((m) => m.text), { timeout: 60_000 }).toContain("sent from the extension");
    await expect.poll(async () => (await alice.history("bob#im.bob.test")).find((m) => m.text === "sent from the extension")?.direction, { timeout: 60_000 }).toBe("out");
  });
});
