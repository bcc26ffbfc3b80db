import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCameraArgs, photographQr, writeQrY4m, writeY4m } from "./fake-camera.js";
import { watchContext } from "./failure-log.js";
import { friendsWhoChatted, openTab, type Person, type PwaWorld, shot, startWorld } from "./pwa-harness.js";

const QR_SIDE = 480;

// Alice uses EMSG in one browser (her laptop) and links a second browser (her phone) to the same account.
describe("linking a second browser to an account in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  let phone: Person;
  let code = "";
  const dir = mkdtempSync(join(tmpdir(), "emsg-link-camera-"));
  const camera = join(dir, "camera.y4m");

  beforeAll(async () => {
    // Chromium reads the fake camera's file when a page starts the camera.
    writeQrY4m(camera, "nothing yet");
    world = await startWorld({ portBase: 8861, inspectorBase: 9461, browserArgs: fakeCameraArgs(camera) });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts with Alice and Bob as friends who have chatted", async () => {
    ({ alice, bob } = await friendsWhoChatted(world));
  });

  it("shows a link code with a QR code and a countdown in Settings → Devices", async () => {
    await openTab(alice.page, "Settings");
    const devices = alice.page.getByTestId("devices");
    await devices.getByTestId("device").first().getByText("This device").waitFor();
    await devices.getByRole("button", { name: "Link a new device" }).click();
    const offer = devices.getByTestId("link-offer");
    await offer.locator(".qr svg").waitFor();
    code = await offer.getByLabel("Link code", { exact: true }).inputValue();
    expect(code).toMatch(/^emsg-link:1:alice#im\.alice\.test:/);
    await expect.poll(() => offer.getByText(/^Works for [0-9]:[0-5][0-9] more$/).count()).toBe(1);
    await offer.scrollIntoViewIfNeeded();
    await shot(alice.page, "link-offer");
  });

  it("links a second browser with the code: onboarding's other path", async () => {
    const context = await world.browser.newContext({ viewport: { width: 420, height: 800 }, locale: "en-GB" });
    watchContext(context, "phone");
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error(`[phone] page error: ${error.message}`));
    await page.goto(world.alice);
    await page.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await page.getByLabel("Link code", { exact: true }).fill("emsg-link:1:nonsense");
    // A bad code is named for what it is, with where to get a good one: never the code's format.
    const alert = page.getByTestId("link-code-error");
    await expect.poll(() => alert.textContent()).toBe("This is not a link code. Get one on your other device: Settings → Devices → Link a new device.");
    await page.getByLabel("Link code", { exact: true }).fill("hello");
    expect(await alert.textContent()).not.toContain("emsg-link");
    await page.getByLabel("Link code", { exact: true }).fill(code);
    await page.getByText("alice#im.alice.test").waitFor();
    await shot(page, "link-form");
    await page.getByRole("button", { name: "Link this device" }).click();
    await page.getByRole("navigation").waitFor({ timeout: 60_000 });
    phone = { context, page, address: "alice#im.alice.test" };

    // The laptop hears of the new device and says so.
    await alice.page.getByTestId("devices").getByText(/is now linked to your account\.$/).waitFor({ timeout: 20_000 });
    await expect.poll(() => alice.page.getByTestId("device").count()).toBe(2);
    await openTab(phone.page, "Settings");
    await expect.poll(() => phone.page.getByTestId("device").count()).toBe(2);
    const mine = phone.page.getByTestId("device").filter({ hasText: "This device" });
    expect(await mine.count()).toBe(1);
    await shot(phone.page, "linked-devices");
  });

  it("shows the friend's next message on the linked browser too", async () => {
    await openTab(phone.page, "Chats");
    const row = phone.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" });
    // The laptop adds the phone to the existing conversation; then Bob writes.
    await row.waitFor({ timeout: 30_000 });
    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click();
    const reply = bob.page.getByLabel("Message", { exact: true });
    await reply.fill("Hi Alice, on whichever device");
    await reply.press("Enter");
    await row.getByText("Hi Alice, on whichever device").waitFor({ timeout: 30_000 });
    await row.click();
    await phone.page.getByTestId("message").filter({ hasText: "Hi Alice, on whichever device" }).waitFor();
    // What the laptop had said before the link came with it: Alice's own words, once, marked as
    // earlier history (the laptop's record, not received here), above Bob's new message.
    const earlier = phone.page.getByTestId("message").filter({ hasText: "Hello from the laptop" });
    expect(await earlier.count()).toBe(1);
    expect(await earlier.getAttribute("data-mine")).toBe("true");
    await earlier.getByTestId("moved").getByText("(earlier history)").waitFor();
    const shown = await phone.page.getByTestId("message").allInnerTexts();
    expect(shown.findIndex((t) => t.includes("Hello from the laptop"))).toBeLessThan(shown.findIndex((t) => t.includes("Hi Alice, on whichever device")));
    await openTab(alice.page, "Chats");
    await alice.page.getByTestId("chat-row").filter({ hasText: "Hi Alice, on whichever device" }).waitFor({ timeout: 20_000 });
    await shot(phone.page, "linked-conversation");
  });

  it("removes the linked browser from the laptop's device list", async () => {
    await openTab(alice.page, "Settings");
    const other = alice.page.getByTestId("device").filter({ hasNotText: "This device" });
    await other.getByRole("button", { name: "Remove" }).click();
    await other.getByText(/^Remove .* from your account\?$/).waitFor();
    await other.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => alice.page.getByTestId("device").count(), { timeout: 20_000 }).toBe(1);
    await phone.context.close();
  });

  it("links a third browser by scanning the QR code the laptop shows", async () => {
    await alice.page.getByTestId("devices").getByRole("button", { name: "Link a new device" }).click();
    await alice.page.getByTestId("link-offer").locator(".qr svg").waitFor();
    writeY4m(camera, await photographQr(alice.page.getByTestId("link-offer").locator(".qr"), QR_SIDE), QR_SIDE);
    const context = await world.browser.newContext({ viewport: { width: 420, height: 800 }, locale: "en-GB" });
    watchContext(context, "scanner");
    const page = await context.newPage();
    await page.goto(world.alice);
    await page.getByRole("button", { name: "I already use EMSG on another device" }).click();
    await page.getByRole("button", { name: "Scan the QR code" }).click();
    const field = page.getByLabel("Link code", { exact: true });
    await expect.poll(() => field.inputValue(), { timeout: 20_000 }).toMatch(/^emsg-link:1:alice#im\.alice\.test:/);
    await page.getByRole("button", { name: "Link this device" }).click();
    await page.getByRole("navigation").waitFor({ timeout: 60_000 });
    await expect.poll(() => alice.page.getByTestId("device").count(), { timeout: 20_000 }).toBe(2);
    await context.close();
  });
});
