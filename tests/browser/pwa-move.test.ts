import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserContext } from "playwright-core";
import { watchContext } from "./failure-log.js";
import { befriend, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

const PASSPHRASE = "correct horse battery staple";

/**
 * The browser reaches other domains at https://DOMAIN; here im.alice.test is a loopback server, so
 * its requests are carried there (the role EMSG_RESOLVE plays for Node clients).
 */
async function resolveDomain(context: BrowserContext, domain: string, origin: string): Promise<string[]> {
  const answered: string[] = [];
  await context.route(`https://${domain}/**`, async (route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: `${origin}${url.pathname}${url.search}` });
    answered.push(`${route.request().method()} ${url.pathname} ${response.status()}`);
    await route.fulfill({ response });
  });
  return answered;
}

// Alice moves her account from im.alice.test to im.bob.test, where her friend Bob already lives.
describe("moving an account to another server in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  let moved: Person;
  let archivePath = "";

  beforeAll(async () => {
    world = await startWorld({ portBase: 8871, inspectorBase: 9471 });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it("starts with Alice and Bob as friends who have chatted", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await befriend(alice, bob);
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    const composer = alice.page.getByLabel("Message", { exact: true });
    await composer.fill("Hello from my old address");
    await composer.press("Enter");
    await alice.page.getByTestId("message").filter({ hasText: "Hello from my old address" }).locator("[data-status=delivered]").waitFor({ timeout: 30_000 });
  });

  it("exports Alice's account in Settings", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.getByLabel("Export passphrase").fill(PASSPHRASE);
    const download = alice.page.waitForEvent("download", { timeout: 60_000 });
    await alice.page.getByRole("button", { name: "Export", exact: true }).click();
    archivePath = await (await download).path();
    expect(archivePath).toBeTruthy();
  }, 90_000);

  it("moves the account into a fresh browser on another server: a wrong passphrase is said plainly, then it works", async () => {
    const context = await world.browser.newContext({ viewport: { width: 1180, height: 760 }, locale: "en-GB" });
    watchContext(context, "moved");
    const oldServer = await resolveDomain(context, "im.alice.test", world.alice);
    const page = await context.newPage();
    // What the core warns of (an item not read, a retry) says why a message does not show.
    page.on("console", (m) => {
      if (m.type() === "warning" || m.type() === "error") console.error(`[moved] ${m.text()}`);
    });
    await page.goto(world.bob);
    await page.getByRole("button", { name: "Move an account here" }).click();
    const form = page.getByTestId("move-form");
    await form.getByLabel("Export file").setInputFiles(archivePath);
    await form.getByLabel("Passphrase of the export").fill("not the passphrase");
    await form.getByLabel("Your name on im.bob.test").fill("alice");
    await form.getByText("Your address will be alice#im.bob.test").waitFor();
    await form.getByRole("button", { name: "Move it here" }).click();
    await form.getByRole("alert").getByText("That passphrase does not open this file.").waitFor({ timeout: 60_000 });
    await shot(page, "move-wrong-passphrase");

    await form.getByLabel("Passphrase of the export").fill(PASSPHRASE);
    await form.getByRole("button", { name: "Move it here" }).click();
    await form.getByTestId("move-progress").waitFor();
    await page.getByRole("navigation").waitFor({ timeout: 90_000 });
    moved = { context, page, address: "alice#im.bob.test" };
    // The form is gone: what the move did is said above the app until dismissed.
    const summary = page.getByTestId("move-summary");
    await summary.getByRole("heading", { name: "Your account moved here" }).waitFor();
    expect(await summary.locator("p").allInnerTexts()).toEqual(["alice#im.alice.test now lives here as alice#im.bob.test; 1 friend was told."]);
    await shot(page, "move-summary");
    await summary.getByRole("button", { name: "Got it" }).click();
    await summary.waitFor({ state: "detached" });
    await openTab(page, "Friends");
    await expect.poll(() => page.getByTestId("my-address").textContent()).toBe("alice#im.bob.test");
    await page.getByTestId("friend-list").getByText("bob#im.bob.test").waitFor();
    await shot(page, "move-friends-restored");
    // The old server took the moved notice, signed by the old key, from this browser, in a request
    // signed as Alice's old browser, the device that made the export (PROTOCOL §11).
    expect(oldServer).toContain("POST /emsg/v1/account/moved 202");
  }, 150_000);

  it("shows Bob that Alice moved, and his old chat points to her new address", async () => {
    await openTab(bob.page, "Friends");
    const old = bob.page.getByTestId("friend-list").locator('[data-address="alice#im.alice.test"]');
    await old.getByTestId("moved-to").getByText("Moved to alice#im.bob.test").waitFor({ timeout: 30_000 });
    await bob.page.getByTestId("friend-list").locator('[data-address="alice#im.bob.test"]').getByText("Formerly alice#im.alice.test").waitFor();
    await shot(bob.page, "move-bob-sees");

    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click();
    const notice = bob.page.getByTestId("moved-notice");
    await notice.getByText("alice#im.alice.test moved to alice#im.bob.test.", { exact: false }).waitFor();
    await expect.poll(() => bob.page.getByTestId("message").filter({ hasText: "Hello from my old address" }).count()).toBe(1);
    await notice.getByRole("button", { name: "Write to alice#im.bob.test" }).click();
  });

  it("carries messages both ways between Bob and Alice's new address", async () => {
    const composer = bob.page.getByLabel("Message", { exact: true });
    await composer.fill("Welcome to im.bob.test!");
    await composer.press("Enter");
    // Bob's server has it (a failure here is his send, not Alice's receipt: once in a full run this
    // step waited in vain on Alice's side).
    await bob.page.getByTestId("message").filter({ hasText: "Welcome to im.bob.test!" }).locator("[data-status=sent], [data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
    await openTab(moved.page, "Chats");
    await moved.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click({ timeout: 30_000 });
    await moved.page.getByTestId("message").filter({ hasText: "Welcome to im.bob.test!" }).waitFor({ timeout: 30_000 });
    // The history moved with the account: the old chat with Bob reads on in the new one, as her own words.
    const old = moved.page.getByTestId("message").filter({ hasText: "Hello from my old address" });
    expect(await old.count()).toBe(1);
    expect(await old.getAttribute("data-mine")).toBe("true");
    const reply = moved.page.getByLabel("Message", { exact: true });
    await reply.fill("Thanks, Bob: same me, new address");
    await reply.press("Enter");
    await bob.page.getByTestId("message").filter({ hasText: "Thanks, Bob: same me, new address" }).waitFor({ timeout: 30_000 });
    await shot(bob.page, "move-new-chat");
  }, 90_000);

  it("Settings can move an old account into this one too: done again, it restores nothing twice", async () => {
    await openTab(moved.page, "Settings");
    const section = moved.page.getByTestId("import-section");
    await section.getByText("its friends become friends of alice#im.bob.test").waitFor();
    // The file is picked with a button like the app's others, not the browser's own control; the
    // file input under it is still reached by keyboard, and the chosen file is named beside it.
    const choose = section.locator("label.button").filter({ hasText: "Choose file…" });
    expect(await choose.isVisible()).toBe(true);
    expect(await section.getByTestId("import-file-name").textContent()).toBe("No file chosen");
    const input = section.getByLabel("Export file");
    expect(await input.evaluate((el) => el.getBoundingClientRect().width <= 1)).toBe(true);
    await input.focus();
    await moved.page.keyboard.press("Shift+Tab");
    await moved.page.keyboard.press("Tab");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await choose.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe("solid");
    await input.setInputFiles(archivePath);
    await expect.poll(() => section.getByTestId("import-file-name").textContent()).not.toBe("No file chosen");
    await section.getByLabel("Passphrase of the export").fill(PASSPHRASE);
    await section.getByRole("button", { name: "Move it here" }).click();
    await section.getByText("alice#im.alice.test now lives here as alice#im.bob.test; 0 friends were told.").waitFor({ timeout: 60_000 });
    await section.scrollIntoViewIfNeeded();
    await shot(moved.page, "move-settings-import");
    await openTab(moved.page, "Friends");
    await expect.poll(() => moved.page.getByTestId("friend-list").getByTestId("person").count()).toBe(1);
    // The chat list keeps its one chat with Bob, its newest message last: the old history came in again under it, not over it.
    await openTab(moved.page, "Chats");
    const rows = moved.page.getByTestId("chat-row");
    await rows.filter({ hasText: "bob#im.bob.test" }).getByText("You: Thanks, Bob: same me, new address").waitFor({ timeout: 30_000 });
    expect(await rows.count()).toBe(1);
  }, 90_000);
});
