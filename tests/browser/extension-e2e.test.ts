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
import { createInPanel, launchWithExtension, type LoadedExtension, type Served, serveHttp } from "./extension-harness.js";

// Two real local domains on ports of their own (npm start uses 8787, the PWA tests 8807).
const PORT_BASE = 8847;
const INSPECTOR_BASE = 9447;

describe("the extension as a full EMSG client across two real domains", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let site: Served;
  let bob: EmsgClient;
  let panel: Page;

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-e2e-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    site = await serveHttp((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><title>Bob's page</title><p>Say hi on EMSG: bob#im.bob.test</p></html>`);
    });
    ext = await launchWithExtension();
    // Bob uses another client of the same core (as the CLI does), on the other domain.
    bob = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await bob.register("bob#im.bob.test", { label: "bob's laptop" });
  }, 180_000);

  afterAll(async () => {
    bob?.disconnect();
    await ext?.close();
    await site?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  it("creates alice#im.alice.test in the side panel, with the keys kept in the extension's IndexedDB", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);
    await expect.poll(() => panel.locator(".connection").textContent(), { timeout: 30_000 }).toBe("Online");
    const account = await ext.worker.evaluate(
      () =>
        new Promise<unknown>((done, fail) => {
          const open = indexedDB.open("emsg-store");
          open.onerror = () => fail(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction("entries", "readonly").objectStore("entries").get("account");
            get.onsuccess = () => done(get.result === undefined ? undefined : JSON.parse(get.result as string));
            get.onerror = () => fail(get.error);
          };
        }),
    );
    expect(account).toMatchObject({ address: "alice#im.alice.test" });
  });

  it("adds bob#im.bob.test from a web page, and bob's acceptance shows up in the panel", async () => {
    const page = await ext.context.newPage();
    await page.goto(site.origin);
    await page.getByRole("button", { name: "Add bob#im.bob.test as EMSG friend" }).click();
    const button = page.locator('emsg-add-friend[data-address="bob#im.bob.test"]').getByRole("button");
    await expect.poll(() => button.getAttribute("aria-label"), { timeout: 30_000 }).toBe("bob#im.bob.test: Friend request sent");
    await page.close();

    await expect
      .poll(async () => {
        await bob.sync();
        return (await bob.friends()).find((f) => f.address === "alice#im.alice.test")?.state;
      }, { timeout: 30_000, interval: 500 })
      .toMatch(/incoming|held/);
    await bob.acceptFriend("alice#im.alice.test");

    await panel.getByRole("tab", { name: "Friends" }).click();
    await expect.poll(() => panel.getByRole("list", { name: "Friends" }).innerText(), { timeout: 90_000 }).toMatch(/bob#im\.bob\.test\s*Message/);
  });

  // Each wait is bounded below the test's own time, so a slow step fails naming itself.
  it("exchanges end-to-end-encrypted messages with bob both ways", async () => {
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).click();
    const composer = panel.getByRole("textbox", { name: "Message" });
    await composer.fill("Hello Bob, from the extension");
    await composer.press("Enter");
    const timeline = panel.getByRole("list", { name: "Messages" });
    await expect.poll(() => timeline.innerText(), { timeout: 10_000, message: "alice's own message in her timeline" }).toContain("Hello Bob, from the extension");

    await expect
      .poll(async () => {
        await bob.sync();
        return (await bob.history("alice#im.alice.test")).map((m) => m.text);
      }, { timeout: 30_000, interval: 500, message: "alice's message at bob" })
      .toContain("Hello Bob, from the extension");
    await bob.sendText("alice#im.alice.test", "Hi Alice, got it 你好");
    await bob.flush();

    await expect.poll(() => timeline.innerText(), { timeout: 30_000, message: "bob's answer in alice's panel" }).toContain("Hi Alice, got it 你好");
    // Bob's device acknowledged Alice's message: two ticks.
    await expect.poll(() => timeline.getByLabel("Delivered").count(), { timeout: 30_000, message: "bob's delivery receipt" }).toBeGreaterThan(0);
  }, 120_000);

  it("follows the chat's timer set on either side", async () => {
    // The chat's own retention, kept by the client core as the PWA's is: these young messages stay.
    const timeline = panel.getByRole("list", { name: "Messages" });
    const retention = panel.getByLabel("Messages here expire");
    await expect.poll(() => retention.inputValue(), { timeout: 10_000 }).toBe("default");
    await retention.selectOption({ label: "1 day" });
    await expect.poll(() => retention.inputValue(), { timeout: 10_000 }).toBe("1");
    expect(await timeline.innerText()).toContain("Hi Alice, got it 你好");
    // Bob sees Alice's timer, then sets another from his side: the open chat's select follows it, without reopening.
    await expect
      .poll(async () => {
        await bob.sync();
        return bob.chatRetention("alice#im.alice.test");
      }, { timeout: 30_000, interval: 500, message: "alice's timer at bob" })
      .toBe(1);
    await bob.setChatRetention("alice#im.alice.test", 7);
    await bob.flush();
    await expect.poll(() => retention.inputValue(), { timeout: 30_000, message: "bob's timer in alice's open chat" }).toBe("7");
  }, 120_000);

  it("holds a stranger's request for review when set so, and accepts it from the requests list", async () => {
    await panel.getByRole("button", { name: "Back to chats" }).click();
    await panel.getByRole("tab", { name: "Settings" }).click();
    await panel.getByLabel("Messages from strangers").selectOption("review");
    await expect.poll(() => panel.getByRole("region", { name: "Settings" }).getByRole("status").innerText()).toBe("Saved");

    const carol = new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: servers.resolve });
    await carol.register("carol#im.bob.test");
    await carol.sendFriendRequest("alice#im.alice.test", "Hi, it's Carol from the conference");

    await panel.getByRole("tab", { name: /Friends/ }).click();
    const requests = panel.getByRole("list", { name: "Requests" });
    await expect.poll(() => requests.innerText(), { timeout: 90_000 }).toContain("carol#im.bob.test “Hi, it's Carol from the conference”");
    await expect.poll(() => panel.getByRole("tab", { name: /Friends/ }).innerText()).toBe("Friends (1)");
    await requests.getByRole("button", { name: "Accept" }).click();
    await expect.poll(() => panel.getByRole("list", { name: "Friends" }).innerText()).toContain("carol#im.bob.test");
    await expect
      .poll(async () => {
        await carol.sync();
        return (await carol.friends()).find((f) => f.address === "alice#im.alice.test")?.state;
      }, { timeout: 30_000, interval: 500 })
      .toBe("friend");
  });

  it("gets messages after Chrome stopped its service worker: the alarm wakes it, and it notifies", async () => {
    await panel.close();
    // An about:blank page only to speak CDP: it cannot wake the extension's worker.
    const probe = await ext.context.newPage();
    const cdp = await ext.context.newCDPSession(probe);
    const running: string[] = [];
    cdp.on("ServiceWorker.workerVersionUpdated", (event) => {
      for (const version of event.versions) if (version.scriptURL.startsWith(`chrome-extension://${ext.id}/`)) running.push(version.runningStatus);
    });
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
    await expect.poll(() => running.at(-1)).toBe("stopped");

    await bob.sendText("alice#im.alice.test", "Are you there after the break?");
    await bob.flush();
    // No EMSG page is open: only the one-minute alarm can start the worker again.
    await expect.poll(() => running.at(-1), { timeout: 90_000, interval: 1000 }).toBe("running");

    const page = await ext.context.newPage();
    await page.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    const notifications = () =>
      page.evaluate(async () => {
        const chrome = (globalThis as unknown as { chrome: { notifications: { getAll(): Promise<Record<string, unknown>> } } }).chrome;
        return Object.keys(await chrome.notifications.getAll());
      });
    await expect.poll(notifications, { timeout: 30_000, interval: 1000 }).toEqual(expect.arrayContaining([expect.stringMatching(/^emsg-msg-/)]));
    await page.getByRole("button", { name: /bob#im\.bob\.test/ }).click();
    // The worker just woke: its first history answer may wait behind the alarm's sync on a busy machine.
    await expect.poll(() => page.getByRole("list", { name: "Messages" }).innerText(), { timeout: 30_000 }).toContain("Are you there after the break?");
    await probe.close();
  }, 180_000);

  it("shows in the panel how far it is in the backlog it reads on waking, as the PWA's strip does", async () => {
    // Only the panel opened below may wake the worker: no other EMSG page, no alarm.
    for (const open of ext.context.pages()) if (open.url().startsWith(`chrome-extension://${ext.id}/`)) await open.close();
    const worker = ext.context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${ext.id}/`))!;
    await worker.evaluate(() => (globalThis as unknown as { chrome: { alarms: { clearAll(): Promise<boolean> } } }).chrome.alarms.clearAll());
    const probe = await ext.context.newPage();
    const cdp = await ext.context.newCDPSession(probe);
    const running: string[] = [];
    cdp.on("ServiceWorker.workerVersionUpdated", (event) => {
      for (const version of event.versions) if (version.scriptURL.startsWith(`chrome-extension://${ext.id}/`)) running.push(version.runningStatus);
    });
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
    await expect.poll(() => running.at(-1)).toBe("stopped");
    for (let i = 1; i <= 3; i++) await bob.sendText("alice#im.alice.test", `Backlog ${i}`);
    await bob.flush();
    // Time for bob's server to hand them to alice's mailbox.
    await new Promise((done) => setTimeout(done, 5000));
    expect(running.at(-1)).toBe("stopped");

    const page = await ext.context.newPage();
    // Every strip the panel shows is kept: the catch-up of a few items is over in a moment.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { emsgBanners: string[] }).emsgBanners = seen;
      new MutationObserver(() => {
        const text = document.querySelector("[data-testid=banner]")?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    await page.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    const banners = () => page.evaluate(() => (globalThis as unknown as { emsgBanners: string[] }).emsgBanners);
    await expect.poll(async () => (await banners()).join(" | "), { timeout: 60_000 }).toMatch(/Catching up… \d+ of \d+/);
    await expect.poll(() => page.getByTestId("banner").count(), { timeout: 60_000 }).toBe(0);
    await page.getByRole("button", { name: /bob#im\.bob\.test/ }).click();
    await expect.poll(() => page.getByRole("list", { name: "Messages" }).innerText(), { timeout: 30_000 }).toContain("Backlog 3");
    // The chat opens with the three under the line that counts them.
    expect(await page.getByTestId("unread-line").textContent()).toBe("3 unread messages");
    expect(await page.getByRole("list", { name: "Messages" }).innerText()).toMatch(/3 unread messages\s+Backlog 1/);
    // Every message from bob raised his chat's one notification, each in the place of the one before, not one a message.
    const conversation = (await bob.conversations()).find((c) => c.peer === "alice#im.alice.test")!.conversation;
    const shown = () =>
      page.evaluate(async () => {
        const chrome = (globalThis as unknown as { chrome: { notifications: { getAll(): Promise<Record<string, unknown>> } } }).chrome;
        return Object.keys(await chrome.notifications.getAll()).filter((id) => id.startsWith("emsg-msg-"));
      });
    await expect.poll(shown, { timeout: 10_000 }).toEqual([`emsg-msg-${conversation}`]);
    await probe.close();
  }, 180_000);
});
