import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchContext } from "./failure-log.js";
import { friendsWhoChatted, openTab, type Person, type PwaWorld, shot, startWorld } from "./pwa-harness.js";

// Alice links a second browser (her phone) to her account, then removes it from the first (her laptop).
describe("a PWA removed from its account by another of its devices", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  let phone: Person;
  const phoneErrors: string[] = [];

  beforeAll(async () => {
    world = await startWorld({ portBase: 19930, inspectorBase: 20930 });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it("starts with Alice's laptop and a linked phone, both in her chat with Bob", async () => {
    ({ alice, bob } = await friendsWhoChatted(world));

    await openTab(alice.page, "Settings");
    const devices = alice.page.getByTestId("devices");
    await devices.getByRole("button", { name: "Link a new device" }).click();
    const code = await devices.getByTestId("link-offer").getByLabel("Link code", { exact: true }).inputValue();
    const context = await world.browser.newContext({ viewport: { width: 420, height: 800 }, locale: "en-GB" });
    watchContext(context, "phone");
    const page = await context.newPage();
    page.on("pageerror", (error) => phoneErrors.push(error.message));
    await page.goto(world.alice);
    await page.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await page.getByLabel("Link code", { exact: true }).fill(code);
    await page.getByRole("button", { name: "Link this device" }).click();
    await page.getByRole("navigation").waitFor({ timeout: 60_000 });
    phone = { context, page, address: "alice#im.alice.test" };
    await devices.getByText(/is now linked to your account\.$/).waitFor({ timeout: 20_000 });
    await phone.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click({ timeout: 30_000 });
    await phone.page.getByLabel("Message", { exact: true }).waitFor();
  });

  it("keeps a phone that is offline just offline: what it writes waits", async () => {
    await phone.context.setOffline(true);
    await phone.page.getByTestId("banner").getByText(/^You are offline\./).waitFor();
    const composer = phone.page.getByLabel("Message", { exact: true });
    await composer.fill("Written on the train");
    await composer.press("Enter");
    await phone.page.getByTestId("message").filter({ hasText: "Written on the train" }).locator("[data-status=queued]").waitFor();
    expect(await phone.page.getByTestId("removed-device").count()).toBe(0);
  });

  it("drops the laptop's 'is now linked' notice once it removed the phone", async () => {
    const other = alice.page.getByTestId("device").filter({ hasNotText: "This device" });
    await other.getByRole("button", { name: "Remove" }).click();
    await other.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => alice.page.getByTestId("device").count(), { timeout: 20_000 }).toBe(1);
    expect(await alice.page.getByTestId("devices").getByText(/is now linked to your account\.$/).count()).toBe(0);
  });

  it("tells the phone, once back online, that it was removed: history readable, no composer, its queued message not sent", async () => {
    await phone.context.setOffline(false);
    const removed = phone.page.getByTestId("removed-device");
    await removed.getByText("This device was removed from your account alice#im.alice.test.").waitFor({ timeout: 30_000 });
    await removed.getByText("Messages already here stay readable; nothing can be sent or received here.").waitFor();
    expect(await phone.page.getByTestId("banner").count()).toBe(0);
    await phone.page.getByTestId("removed-notice").waitFor();
    expect(await phone.page.getByLabel("Message", { exact: true }).count()).toBe(0);
    await phone.page.getByTestId("message").filter({ hasText: "Written on the train" }).locator("[data-status=failed]").waitFor();
    await removed.getByRole("button", { name: "Link again" }).waitFor();
    await shot(phone.page, "removed-device");
  });

  it("still says so after a reload", async () => {
    await phone.page.reload();
    await phone.page.getByTestId("removed-device").getByText("This device was removed from your account alice#im.alice.test.").waitFor({ timeout: 30_000 });
  });

  it("'Remove EMSG from this device' deletes what the phone holds, once confirmed, and returns it to the welcome screen", async () => {
    const removed = phone.page.getByTestId("removed-device");
    await removed.getByRole("button", { name: "Remove EMSG from this device" }).click();
    await removed.getByText(/^This deletes the keys and every message kept on this device\./).waitFor();
    await removed.getByRole("button", { name: "Delete from this device" }).click();
    await phone.page.getByRole("button", { name: "Create my address" }).waitFor({ timeout: 20_000 });
    await phone.page.reload();
    await phone.page.getByRole("button", { name: "Create my address" }).waitFor({ timeout: 20_000 });
    // The laptop goes on as before.
    await openTab(alice.page, "Chats");
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    await alice.page.getByLabel("Message", { exact: true }).waitFor();
    expect(phoneErrors).toEqual([]);
  });
});
