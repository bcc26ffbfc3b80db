import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { befriend, openTab, type Person, type PwaWorld, register, shot, startWorld, statusLineWhole } from "./pwa-harness.js";

const DAY = 86_400_000;

// Alice (im.alice.test) and Bob (im.bob.test), issue 17: a chat's disappearing-messages timer is
// everyone's in it, the chat's controls (pin, mute, 发送) stay usable on a phone, and Back there
// returns to the list. Erin and Frank:
// the app's own timer tries a Welcome again that a busy server kept it from taking. Gina and Hal: the
// one-time offer to turn notifications on.
describe("a chat's timer across two domains, the chat's controls on a phone, a Welcome tried again on time", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    world = await startWorld({ portBase: 19180, inspectorBase: 20180 });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const say = async (page: Page, text: string) => {
    const composer = page.getByLabel("Message", { exact: true });
    await composer.fill(text);
    await composer.press("Enter");
  };
  const message = (page: Page, text: string) => page.getByTestId("message").filter({ hasText: text });
  const openChat = async (person: Person, withWhom: string) => {
    await openTab(person.page, "Chats");
    const row = person.page.getByTestId("chat-row").filter({ hasText: withWhom });
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  };

  it("shows Bob the timer Alice set as a notice and as the chat's setting", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await befriend(alice, bob);
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    await say(alice.page, "Hi Bob");
    await openChat(bob, alice.address);
    await message(bob.page, "Hi Bob").waitFor({ timeout: 30_000 });
    await alice.page.getByLabel("Disappearing").selectOption({ label: "1 day" });
    await alice.page.getByTestId("notice").filter({ hasText: "set messages to disappear after 1 day" }).waitFor();
    const notice = bob.page.getByTestId("notice").filter({ hasText: "set messages to disappear after 1 day" });
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toMatch(/^alice/);
    await expect.poll(() => bob.page.getByLabel("Disappearing").inputValue(), { timeout: 10_000 }).toBe("1");
    // The timer came after "Hi Bob": it is the chat's last line in both lists.
    for (const [person, other] of [[alice, bob], [bob, alice]] as const) {
      const row = person.page.getByTestId("chat-row").filter({ hasText: other.address });
      await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain("Disappearing messages: 1 day");
    }
    await shot(bob.page, "timer-notice");
  });

  it("deletes Bob's copy of Alice's message when its day is up, with nobody touching anything", async () => {
    await say(alice.page, "This one disappears");
    await message(bob.page, "This one disappears").waitFor({ timeout: 30_000 });
    // A day and a minute pass on Bob's device; his app deletes the message on its own.
    await bob.page.clock.setSystemTime(Date.now() + DAY + 60_000);
    await expect.poll(() => message(bob.page, "This one disappears").count(), { timeout: 40_000, interval: 1000 }).toBe(0);
    expect(await message(bob.page, "Hi Bob").count()).toBe(0);
    await shot(bob.page, "timer-expired");
  }, 60_000);

  it("reaches Pin and Mute on a 390×844 phone, the name and status line still whole", async () => {
    await alice.page.setViewportSize({ width: 390, height: 844 });
    // On a phone the open chat fills the screen; the list shows only when none is open.
    const chatRow = alice.page.getByTestId("chat-row").filter({ hasText: bob.address });
    if (await chatRow.isVisible()) await chatRow.click();
    const pin = alice.page.getByRole("button", { name: "Pin", exact: true });
    const mute = alice.page.getByRole("button", { name: "Mute", exact: true });
    expect(await pin.isVisible()).toBe(true);
    expect(await mute.isVisible()).toBe(true);
    expect(await statusLineWhole(alice.page)).toBe(true);
    // They sit below the name, which keeps its line.
    const title = await alice.page.locator("#conv-title").boundingBox();
    expect((await pin.boundingBox())!.y).toBeGreaterThanOrEqual(title!.y + title!.height);
    expect(title!.width).toBeGreaterThan(150);
    await pin.click();
    await mute.click();
    await alice.page.getByRole("button", { name: "Unpin", exact: true }).waitFor();
    await alice.page.getByRole("button", { name: "Unmute", exact: true }).waitFor();
    await shot(alice.page, "phone-pin-mute");
    // The header is two short lines: the timer is named on screen, and the status line has no stray dot.
    const head = alice.page.locator(".conversation .pane-head");
    expect((await head.boundingBox())!.height).toBeLessThanOrEqual(110);
    expect(await head.getByText("Disappearing", { exact: true }).isVisible()).toBe(true);
    const sub = head.locator(".sub");
    expect(await sub.evaluate((line) => [...line.children].map((part) => getComputedStyle(part, "::before").content))).toEqual(["none", "none"]);
    // The domain of the address stays whole; on a narrower phone the name part would give way first.
    for (const width of [390, 360]) {
      await alice.page.setViewportSize({ width, height: 844 });
      const domain = alice.page.locator("#conv-title .address-domain");
      expect(await domain.textContent()).toBe("#im.bob.test");
      // Not cut: its text is as wide as its box (a pixel's rounding aside).
      expect(await domain.evaluate((el) => el.getBoundingClientRect().width > 0 && el.scrollWidth <= el.clientWidth + 1)).toBe(true);
      expect(await alice.page.locator("#conv-title").textContent()).toBe(bob.address);
    }
    await alice.page.setViewportSize({ width: 390, height: 844 });
    await alice.page.getByRole("button", { name: "Back" }).click();
    const row = alice.page.getByTestId("chat-row").filter({ hasText: bob.address });
    await row.getByTestId("pinned").waitFor();
    await row.getByTestId("muted").waitFor();
  });

  it("goes back from a chat to the list with the browser's Back on a phone, not out of the app", async () => {
    const page = alice.page;
    const row = page.getByTestId("chat-row").filter({ hasText: bob.address });
    const composer = page.getByLabel("Message", { exact: true });
    await row.click();
    await composer.waitFor();
    await page.goBack();
    await row.waitFor();
    expect(await composer.isVisible()).toBe(false);
    expect(page.url().startsWith(world.alice)).toBe(true);
    // Forward opens it again; the app's own Back goes back over its entry, leaving none behind.
    await page.goForward();
    await composer.waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await row.waitFor();
    await page.goForward();
    await composer.waitFor();
    await message(page, "This one disappears").waitFor();
  });

  it("goes back from a chat to the list with the Chats tab on a phone, as every messenger does", async () => {
    const page = alice.page;
    const row = page.getByTestId("chat-row").filter({ hasText: bob.address });
    const composer = page.getByLabel("Message", { exact: true });
    if (!(await composer.isVisible())) await row.click();
    await composer.waitFor();
    await openTab(page, "Chats");
    await row.waitFor();
    expect(await composer.isVisible()).toBe(false);
    // On a desktop the list and the chat share the screen: the Chats tab leaves the chat open.
    await row.click();
    await page.setViewportSize({ width: 1280, height: 800 });
    await openTab(page, "Chats");
    await composer.waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
  });

  it("keeps 发送 on one line at every width, phone to desktop", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.locator("#language").selectOption("zh-CN");
    await alice.page.getByRole("navigation").getByRole("button", { name: "聊天" }).click();
    const row = alice.page.getByTestId("chat-row").filter({ hasText: bob.address });
    const send = alice.page.locator("form.composer button[type=submit]");
    for (const width of [260, 280, 300, 320, 340, 360, 375, 390, 414, 430, 480, 540, 600, 680, 760, 761, 800, 860, 900, 1024, 1180, 1440]) {
      await alice.page.setViewportSize({ width, height: 844 });
      if (!(await send.isVisible())) await row.click();
      await send.getByText("发送").waitFor();
      // The label's box is one line high, and it is all on one line.
      const measured = await send.evaluate((button) => {
        const range = document.createRange();
        range.selectNodeContents(button);
        const lineHeight = parseFloat(getComputedStyle(button).lineHeight) || parseFloat(getComputedStyle(button).fontSize) * 1.2;
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        return { lines: tops.size, textHeight: range.getBoundingClientRect().height, lineHeight, fits: button.scrollWidth <= button.clientWidth };
      });
      expect({ width, ...measured, oneLine: measured.textHeight <= measured.lineHeight * 1.5 }).toMatchObject({ width, lines: 1, oneLine: true, fits: true });
    }
    await shot(alice.page, "send-zh-narrowest");
  }, 120_000);

  it("joins a chat whose first Welcome came while its server was busy, on its own once the retry is due", async () => {
    const erin = await register(world, world.alice, "im.alice.test", "erin");
    const frank = await register(world, world.bob, "im.bob.test", "frank");
    await befriend(erin, frank);
    // Frank's server refuses him the device lists a join checks, for now, as a busy server would.
    let refused = 0;
    await frank.page.route("**/directory/devices", (route) => {
      refused++;
      return route.fulfill({ status: 429, contentType: "application/json", body: JSON.stringify({ error: "rate_limited", message: "Slow down." }) });
    });
    await erin.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    await say(erin.page, "Welcome, Frank");
    await expect.poll(() => refused, { timeout: 30_000 }).toBeGreaterThan(0);
    await frank.page.unroute("**/directory/devices");
    expect(await message(frank.page, "Welcome, Frank").count()).toBe(0);
    // Nothing more comes for Frank: only the app's own check takes the kept Welcome, 5 s after the
    // refusal at the earliest and at the next 15-s check.
    await openChat(frank, erin.address);
    await message(frank.page, "Welcome, Frank").waitFor({ timeout: 30_000 });
  }, 90_000);

  it("offers once to turn notifications on, and asks the browser only when told to", async () => {
    const gina = await register(world, world.alice, "im.alice.test", "gina");
    const offer = gina.page.getByTestId("notify-offer");
    await offer.getByText("Get a notification when a message comes while EMSG is in the background?").waitFor();
    expect(await gina.page.evaluate(() => Notification.permission)).toBe("default");
    await shot(gina.page, "notify-offer");
    await offer.getByRole("button", { name: "Turn on notifications" }).click();
    await offer.waitFor({ state: "detached" });
    // Headless Chromium answers "denied" by itself: Settings tells how to change that.
    await openTab(gina.page, "Settings");
    await gina.page.getByText("Notifications are blocked in this browser's site settings.").waitFor();
    const hal = await register(world, world.bob, "im.bob.test", "hal");
    await hal.page.getByTestId("notify-offer").getByRole("button", { name: "Not now" }).click();
    await hal.page.getByTestId("notify-offer").waitFor({ state: "detached" });
    await hal.page.reload();
    await hal.page.getByRole("navigation").waitFor();
    await hal.page.getByText("No chats yet. Add a friend, then say hello.").waitFor();
    expect(await hal.page.getByTestId("notify-offer").count()).toBe(0);
    expect(await hal.page.evaluate(() => Notification.permission)).toBe("default");
  });
});
