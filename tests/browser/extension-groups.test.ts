import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { createInPanel, launchWithExtension, type LoadedExtension, registerInTab } from "./extension-harness.js";
import { ARTIFACTS, launchChromium, openTab, type Person, register } from "./pwa-harness.js";

// Ports of this file alone.
const PORT_BASE = 8951;
const INSPECTOR_BASE = 9551;

interface NotificationsInWorker {
  chrome: { notifications: { create(...args: unknown[]): unknown } };
  emsgShown?: string[];
}

// Alice uses the extension on im.alice.test; Bob (a tab of the same browser) and Carol (a browser
// of her own: one PWA account per origin and profile) use the PWA of im.bob.test. Alice makes a
// group in the extension, both answer in the PWA, and Alice renames it, removes Carol, adds her
// back and leaves.
describe("group chats in the extension, with PWA users on the other domain", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let ext: LoadedExtension;
  let carolsBrowser: Browser;
  let panel: Page;
  let bob: Page;
  let carol: Person;
  /** What bob's PWA warned of, shown should a wait for bob time out. */
  const bobWarnings: string[] = [];

  beforeAll(async () => {
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-ext-groups-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    ext = await launchWithExtension();
    carolsBrowser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await carolsBrowser?.close();
    await ext?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  const timeline = () => panel.getByRole("list", { name: "Messages" });
  /** A message in alice's panel, and the sender name shown above it (none when it continues a run). */
  const inPanel = (text: string) => timeline().locator("li").filter({ hasText: text });
  const noticeInPanel = (text: string) => timeline().locator("li.notice").filter({ hasText: text });
  const say = async (page: Page, text: string) => {
    const composer = page.getByLabel("Message", { exact: true });
    await composer.fill(text);
    await composer.press("Enter");
  };
  const pwaMessage = (page: Page, text: string) => page.getByTestId("message").filter({ hasText: text });
  const pwaNotice = (page: Page, text: string) => page.getByTestId("notice").filter({ hasText: text });
  const pwaTitle = (page: Page) => page.locator("#conv-title");
  const shot = (name: string) => panel.screenshot({ path: join(ARTIFACTS, `extension-${name}.png`) });

  it("sets up alice in the extension and befriends bob and carol, who accept in the PWA", async () => {
    panel = await createInPanel(ext, "alice#im.alice.test", servers.origins["im.alice.test"]!);

    bob = await registerInTab(ext, servers.origins["im.bob.test"]!, "bob");
    bob.on("console", (m) => {
      if (m.type() === "warning" || m.type() === "error") bobWarnings.push(m.text());
    });
    carol = await register({ browser: carolsBrowser }, servers.origins["im.bob.test"]!, "im.bob.test", "carol");

    await panel.getByRole("tab", { name: "Friends" }).click();
    for (const [page, address] of [[bob, "bob#im.bob.test"], [carol.page, carol.address]] as const) {
      await panel.getByLabel("Address or emsg: link").fill(address);
      await panel.getByRole("button", { name: "Send request" }).click();
      await panel.getByText(`Request sent to ${address}.`, { exact: false }).waitFor({ timeout: 30_000 });
      await openTab(page, "Friends");
      const request = page.getByTestId("incoming").getByTestId("person").filter({ hasText: "alice#im.alice.test" });
      await request.waitFor({ timeout: 60_000 });
      await request.getByRole("button", { name: "Accept" }).click();
    }
    const friends = panel.getByRole("list", { name: "Friends" });
    await expect.poll(() => friends.getByRole("button", { name: "Message" }).count(), { timeout: 90_000 }).toBe(2);
  }, 240_000);

  it("makes the group “Trip” from Chats → New group, with a name and two friends ticked", async () => {
    await panel.getByRole("tab", { name: "Chats" }).click();
    await panel.getByRole("button", { name: "New group" }).click();
    const form = panel.getByRole("form", { name: "New group" });
    await form.getByRole("checkbox", { name: "bob#im.bob.test" }).waitFor();
    // Nothing is made without a name and two friends: the form says what is missing.
    await form.getByRole("button", { name: "Create" }).click();
    await form.getByText("Give the group a name.").waitFor();
    await form.getByText("Choose at least two friends.", { exact: false }).waitFor();
    await form.getByLabel("Group name").fill("Trip");
    await form.getByRole("checkbox", { name: "bob#im.bob.test" }).check();
    await form.getByRole("checkbox", { name: carol.address }).check();
    await form.getByText("2 selected").waitFor();
    await shot("group-new");
    await form.getByRole("button", { name: "Create" }).click();

    // The group itself opens, not a chat with its first member.
    const chat = panel.getByRole("region", { name: "Trip" });
    await chat.getByRole("heading", { name: "Trip" }).waitFor({ timeout: 30_000 });
    await chat.getByText("3 members").waitFor();
    await noticeInPanel("You created the group “Trip”").waitFor();
    await say(panel, "Hi both! Saturday?");
    await expect.poll(() => inPanel("Hi both! Saturday?").getByLabel(/Sent|Delivered/).count(), { timeout: 30_000 }).toBe(1);
  });

  it("bob and carol see it in the PWA and reply; alice reads them with their names and is notified as “bob in Trip”", async () => {
    // Records what the background shows as system notifications (their text is not readable otherwise).
    await ext.worker.evaluate(() => {
      const g = globalThis as unknown as NotificationsInWorker;
      const notifications = g.chrome.notifications;
      const create = notifications.create.bind(notifications);
      g.emsgShown = [];
      notifications.create = (...args: unknown[]) => {
        const options = (typeof args[0] === "string" ? args[1] : args[0]) as { title: string; message: string };
        g.emsgShown!.push(`${options.title}: ${options.message}`);
        return create(...args);
      };
    });
    for (const page of [bob, carol.page]) {
      await openTab(page, "Chats");
      const row = page.getByTestId("chat-row").filter({ hasText: "Trip" });
      await row.waitFor({ timeout: 60_000 });
      await row.click();
      await expect.poll(() => pwaTitle(page).textContent(), { timeout: 30_000 }).toBe("Trip");
      await pwaMessage(page, "Hi both! Saturday?").waitFor({ timeout: 60_000 });
    }
    await say(bob, "Saturday works");
    await pwaMessage(carol.page, "Saturday works").waitFor({ timeout: 60_000 });
    // Arrivals within GATHER_MS of each other raise one notification per chat, for the latest: carol
    // answers only once alice was notified of bob's message, so each shows.
    await expect
      .poll(() => ext.worker.evaluate(() => (globalThis as unknown as NotificationsInWorker).emsgShown ?? []), { timeout: 30_000 })
      .toContain("bob in Trip: Saturday works");
    await say(carol.page, "Count me in");

    await inPanel("Saturday works").waitFor({ timeout: 60_000 });
    await inPanel("Count me in").waitFor({ timeout: 60_000 });
    expect(await inPanel("Saturday works").locator(".sender").textContent()).toBe("bob");
    expect(await inPanel("Count me in").locator(".sender").textContent()).toBe("carol");
    // Her own messages carry no name.
    expect(await inPanel("Hi both! Saturday?").locator(".sender").count()).toBe(0);
    await shot("group-chat");
    await expect
      .poll(() => ext.worker.evaluate(() => (globalThis as unknown as NotificationsInWorker).emsgShown ?? []), { timeout: 30_000 })
      .toContain("carol in Trip: Count me in");

    await panel.getByRole("button", { name: "Back to chats" }).click();
    const row = panel.getByRole("list", { name: "Chats" }).getByRole("button").filter({ hasText: "Trip" });
    await expect.poll(() => row.innerText(), { timeout: 30_000 }).toMatch(/Trip\s*·\s*3 members[\s\S]*carol: Count me in/);
    // No 1:1 chat with bob or carol was made: the group is the only chat.
    expect(await panel.getByRole("list", { name: "Chats" }).getByRole("listitem").count()).toBe(1);
    await row.click();
    await panel.getByRole("heading", { name: "Trip" }).waitFor();
  }, 240_000);

  it("renames the group from Group info; bob sees the new name", async () => {
    await panel.getByRole("button", { name: "Group info" }).click();
    const info = panel.getByRole("region", { name: "Group info" });
    await expect.poll(() => info.getByRole("list", { name: "Members" }).getByRole("listitem").count()).toBe(3);
    await info.getByLabel("Group name").fill("Trip to Lisbon");
    await info.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => info.getByRole("button", { name: "Rename" }).isDisabled(), { timeout: 30_000 }).toBe(true);
    await info.getByRole("button", { name: "Close" }).click();
    await panel.getByRole("heading", { name: "Trip to Lisbon" }).waitFor({ timeout: 30_000 });
    await noticeInPanel("You renamed the group to “Trip to Lisbon”").waitFor({ timeout: 30_000 });

    await expect.poll(() => pwaTitle(bob).textContent(), { timeout: 60_000 }).toBe("Trip to Lisbon");
    await pwaNotice(bob, "alice renamed the group to “Trip to Lisbon”").waitFor();
  }, 120_000);

  it("removes carol after asking; she is told and can no longer write, bob still reads alice", async () => {
    await panel.getByRole("button", { name: "Group info" }).click();
    const info = panel.getByRole("region", { name: "Group info" });
    await info.getByRole("button", { name: "Remove carol" }).click();
    const confirm = info.getByRole("group", { name: "Remove carol from Trip to Lisbon?" });
    await shot("group-info");
    await confirm.getByRole("button", { name: "Remove", exact: true }).click();
    await expect.poll(() => info.getByRole("list", { name: "Members" }).getByRole("listitem").count(), { timeout: 30_000 }).toBe(2);
    await info.getByRole("button", { name: "Close" }).click();
    await panel.getByText("2 members").waitFor({ timeout: 30_000 });
    await noticeInPanel("You removed carol").waitFor({ timeout: 30_000 });

    const ended = carol.page.getByTestId("group-ended");
    await ended.waitFor({ timeout: 60_000 });
    expect(await ended.textContent()).toBe("alice removed you from this group. You can still read it, but no longer send to it.");
    await pwaNotice(bob, "alice removed carol").waitFor({ timeout: 60_000 });

    await say(panel, "Just us now");
    await pwaMessage(bob, "Just us now").waitFor({ timeout: 60_000 });
    expect(await pwaMessage(carol.page, "Just us now").count()).toBe(0);
  }, 180_000);

  it("adds carol back from Add members, where only she is offered; she writes again and alice reads her", async () => {
    await panel.getByRole("button", { name: "Group info" }).click();
    const info = panel.getByRole("region", { name: "Group info" });
    await info.getByRole("button", { name: "Add members" }).click();
    await info.getByRole("checkbox", { name: carol.address }).check();
    expect(await info.getByRole("checkbox").count()).toBe(1);
    await info.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => info.getByRole("list", { name: "Members" }).getByRole("listitem").count(), { timeout: 30_000 }).toBe(3);
    await info.getByRole("button", { name: "Close" }).click();
    await noticeInPanel("You added carol").waitFor({ timeout: 30_000 });

    await carol.page.getByTestId("group-ended").waitFor({ state: "detached", timeout: 60_000 });
    await say(carol.page, "Back again");
    await inPanel("Back again").waitFor({ timeout: 60_000 });
    expect(await inPanel("Back again").locator(".sender").textContent()).toBe("carol");
  }, 180_000);

  it("leaves after asking: a sentence takes the composer's place, and bob sees that alice left", async () => {
    await panel.getByRole("button", { name: "Group info" }).click();
    const info = panel.getByRole("region", { name: "Group info" });
    await info.getByRole("button", { name: "Leave group" }).click();
    await info.getByRole("group", { name: "Leave Trip to Lisbon? You will stop getting its messages." }).getByRole("button", { name: "Leave group" }).click();
    await panel.getByRole("status").filter({ hasText: "You left this group. You can still read it, but no longer send to it." }).waitFor({ timeout: 30_000 });
    expect(await panel.getByRole("textbox", { name: "Message" }).count()).toBe(0);
    await shot("group-left");
    await inPanel("Saturday works").waitFor();
    await pwaNotice(bob, "alice left").waitFor({ timeout: 60_000 }).catch(async (error: Error) => {
      const shown = await bob.getByTestId("timeline").innerText().catch(() => "(no timeline)");
      throw new Error(`${error.message}\nbob's timeline:\n${shown}\nbob's warnings:\n${bobWarnings.join("\n")}`);
    });
  }, 120_000);
});
