import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { befriend, newestWhole, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// Alice (im.alice.test) sends Bob (im.bob.test) a photo, a 20 MiB file and a voice note from the
// PWA; Bob sees the photo and opens it full screen, downloads the file whole and plays the voice
// note. A blob changed on its way to Bob is refused and shown damaged (PROTOCOL §15). A chat with
// photos opens at its newest message, and is read only while that is on a shown screen.
describe("attachments in the PWA, across two domains", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  const big = Buffer.alloc(20 * 1_048_576);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);

  beforeAll(async () => {
    world = await startWorld({
      portBase: 18963,
      inspectorBase: 19963,
      browserArgs: ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"],
    });
  }, 240_000);

  afterAll(async () => {
    await world?.close();
  });

  const attachments = (p: Person) => p.page.getByTestId("attachment");

  it("makes Alice and Bob friends and opens their chat", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await befriend(alice, bob);
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
  }, 120_000);

  it("Alice sends a photo, a 20 MiB file and a voice note, with progress, and each shows as sent", async () => {
    const png = await alice.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(640, 480);
      const g = canvas.getContext("2d")!;
      g.fillStyle = "#2a7";
      g.fillRect(0, 0, 640, 480);
      g.fillStyle = "#fd0";
      g.fillRect(100, 100, 200, 150);
      return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer()));
    });
    const input = alice.page.getByTestId("file-input");
    await input.setInputFiles({ name: "garden.png", mimeType: "image/png", buffer: Buffer.from(png) });
    await attachments(alice).filter({ has: alice.page.getByTestId("image-full") }).waitFor({ timeout: 60_000 });
    // The photo, the chat's first message, is its line in Alice's chat list: one row, not one before the chat exists and one after.
    await expect.poll(() => alice.page.getByTestId("chat-row").filter({ hasText: "garden.png" }).count(), { timeout: 30_000 }).toBe(1);
    expect(await alice.page.getByTestId("chat-row").count()).toBe(1);

    await input.setInputFiles({ name: "dataset.bin", mimeType: "application/octet-stream", buffer: big });
    await alice.page.getByTestId("transfer").first().waitFor({ timeout: 30_000 });
    await shot(alice.page, "attachment-uploading");
    await attachments(alice).filter({ hasText: "dataset.bin" }).waitFor({ timeout: 120_000 });
    await expect.poll(() => alice.page.getByTestId("transfer").count(), { timeout: 180_000 }).toBe(0);

    await alice.page.getByTestId("record").click();
    await alice.page.getByTestId("record-stop").waitFor();
    await alice.page.waitForTimeout(1500);
    await alice.page.getByTestId("record-stop").click();
    await attachments(alice).filter({ hasText: "Voice note" }).waitFor({ timeout: 60_000 });
    await expect.poll(() => alice.page.locator('[data-testid="message"] [data-testid="tick"][data-status="sending"]').count(), { timeout: 60_000 }).toBe(0);
    await expect(alice.page.getByTestId("file-error").count()).resolves.toBe(0);
  }, 300_000);

  it("Bob sees the photo and opens it full screen, downloads the 20 MiB file whole, and plays the voice note", async () => {
    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click({ timeout: 60_000 });
    const photo = bob.page.getByTestId("image-full");
    await photo.waitFor({ timeout: 60_000 });
    expect(await photo.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([640, 480]);
    await photo.click();
    await bob.page.getByTestId("viewer").waitFor();
    await shot(bob.page, "attachment-viewer");
    await bob.page.getByTestId("viewer").getByRole("button", { name: "Close" }).click();

    const card = attachments(bob).filter({ hasText: "dataset.bin" });
    await card.getByText("20.0 MiB").waitFor();
    const [download] = await Promise.all([bob.page.waitForEvent("download", { timeout: 180_000 }), card.getByTestId("file-download").click()]);
    expect(download.suggestedFilename()).toBe("dataset.bin");
    const saved = await readFile((await download.path())!);
    expect(saved.length).toBe(big.length);
    expect(createHash("sha256").update(saved).digest("hex")).toBe(createHash("sha256").update(big).digest("hex"));

    const audio = attachments(bob).filter({ hasText: "Voice note" }).getByTestId("audio");
    await audio.waitFor({ timeout: 60_000 });
    const played = await audio.evaluate(async (el: HTMLAudioElement) => {
      await el.play();
      await new Promise((r) => setTimeout(r, 700));
      return el.currentTime;
    });
    expect(played).toBeGreaterThan(0);
    await shot(bob.page, "attachments-received");
  }, 300_000);

  it("Bob's reaction to the photo shows under it on both sides, as a text's would", async () => {
    const photoOf = (page: Page) => page.getByTestId("message").filter({ has: page.getByTestId("image-full") });
    const bubble = photoOf(bob.page);
    await bubble.hover();
    await bubble.getByLabel("Message actions").first().click();
    await bubble.getByRole("group", { name: "Message actions" }).getByRole("button", { name: "React with ❤️" }).click();
    await expect.poll(() => bubble.getByTestId("reaction").textContent(), { timeout: 30_000 }).toBe("❤️ 1");
    await openTab(alice.page, "Chats");
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    await expect.poll(() => photoOf(alice.page).getByTestId("reaction").textContent(), { timeout: 30_000 }).toBe("❤️ 1");
  }, 120_000);

  it("a blob changed on its way to Bob is refused and shown as damaged, never opened", async () => {
    await bob.context.route("**/emsg/v1/blobs/**", async (route) => {
      const response = await route.fetch();
      const body = Buffer.from(await response.body());
      const at = Math.floor(body.length / 2);
      body[at] = body[at]! ^ 1;
      await route.fulfill({ response, body });
    });
    await alice.page.getByTestId("file-input").setInputFiles({ name: "contract.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4 a contract ".repeat(500)) });
    const card = attachments(bob).filter({ hasText: "contract.pdf" });
    await card.waitFor({ timeout: 60_000 });
    await card.getByTestId("file-download").click();
    await bob.page.getByTestId("attachment-damaged").filter({ hasText: "contract.pdf" }).waitFor({ timeout: 60_000 });
    await shot(bob.page, "attachment-damaged");
  }, 180_000);

  // The tester's report: a chat whose photos load after it is drawn opened partway up, the newest
  // messages below the screen, messages that came while reading above gave no sign, and Alice saw
  // them read.
  describe("a chat with photos opens at its newest message", () => {
    let carol: Person;
    const composer = (page: Page) => page.getByLabel("Message", { exact: true });
    const timeline = (page: Page) => page.getByTestId("timeline");
    const openChat = (person: Person, name: string) => person.page.getByTestId("chat-row").filter({ hasText: name }).click({ timeout: 60_000 });
    // Every photo drawn at its own size, two frames on: the timeline's height is final.
    const settled = async (page: Page, newest: string) => {
      await page.getByTestId("message").last().filter({ hasText: newest }).waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => {
        const images = [...document.querySelectorAll('[data-testid="timeline"] img')] as HTMLImageElement[];
        return images.length >= 3 && images.every((img) => img.complete && img.naturalHeight > 0 && img.dataset.testid === "image-full");
      }, null, { timeout: 60_000 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    };
    const photo = (page: Page, width: number, height: number, colour: string) =>
      page.evaluate(async ([w, h, c]) => {
        const canvas = new OffscreenCanvas(w, h);
        const g = canvas.getContext("2d")!;
        g.fillStyle = c;
        g.fillRect(0, 0, w, h);
        return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer()));
      }, [width, height, colour] as const);

    it("Bob, away, gets two photos and six messages from Alice, and Carol writes to him too", async () => {
      await bob.context.unroute("**/emsg/v1/blobs/**");
      carol = await register(world, world.bob, "im.bob.test", "carol");
      await befriend(carol, bob);
      await carol.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
      await composer(carol.page).fill("Hi Bob, Carol here");
      await composer(carol.page).press("Enter");
      await openTab(bob.page, "Chats");
      await bob.page.getByTestId("chat-row").filter({ hasText: "Hi Bob, Carol here" }).waitFor({ timeout: 60_000 });

      await bob.page.goto("about:blank");
      const input = alice.page.getByTestId("file-input");
      await input.setInputFiles({ name: "tall.png", mimeType: "image/png", buffer: Buffer.from(await photo(alice.page, 300, 900, "#c33")) });
      await input.setInputFiles({ name: "holiday.png", mimeType: "image/png", buffer: Buffer.from(await photo(alice.page, 640, 420, "#36c")) });
      for (let i = 1; i <= 6; i++) {
        await composer(alice.page).fill(`Offline message ${i}`);
        await composer(alice.page).press("Enter");
      }
      await expect.poll(() => alice.page.locator('[data-testid="message"] [data-testid="tick"][data-status="sending"]').count(), { timeout: 60_000 }).toBe(0);
    }, 240_000);

    it("Bob back: the chat opens at its newest message, whole, after its photos load, each time he goes back to it, on a desktop and a phone", async () => {
      await bob.page.goto(world.bob);
      await bob.page.getByRole("navigation").waitFor();
      await openTab(bob.page, "Chats");
      for (const viewport of [{ width: 1180, height: 760 }, { width: 390, height: 844 }]) {
        await bob.page.setViewportSize(viewport);
        // A phone shows the chat list or a chat: back from the chat the desktop rounds left open.
        if (viewport.width < 600) await bob.page.getByRole("button", { name: "Back" }).click();
        for (let round = 0; round < 3; round++) {
          await openChat(bob, "carol#im.bob.test");
          await bob.page.getByTestId("message").filter({ hasText: "Hi Bob, Carol here" }).waitFor();
          if (viewport.width < 600) await bob.page.getByRole("button", { name: "Back" }).click();
          await openChat(bob, "alice#im.alice.test");
          await settled(bob.page, "Offline message 6");
          expect(await newestWhole(bob.page), `${viewport.width}px, opening ${round + 1}`).toBe(true);
          if (viewport.width < 600) await bob.page.getByRole("button", { name: "Back" }).click();
        }
      }
      await bob.page.setViewportSize({ width: 1180, height: 760 });
      await openChat(bob, "alice#im.alice.test");
      await settled(bob.page, "Offline message 6");
      await shot(bob.page, "photos-chat-opened");
    }, 240_000);

    it("a message coming while Bob reads further up leaves him there, is not marked read, and a jump button with its count takes him to it", async () => {
      await timeline(bob.page).hover();
      await bob.page.mouse.wheel(0, -1500);
      await expect.poll(() => timeline(bob.page).evaluate((t) => t.scrollHeight - t.scrollTop - t.clientHeight)).toBeGreaterThan(300);
      const jump = bob.page.getByRole("button", { name: /newest message/ });
      await jump.waitFor();
      const readingAt = await timeline(bob.page).evaluate((t) => t.scrollTop);

      await composer(alice.page).fill("Are you still there?");
      await composer(alice.page).press("Enter");
      await bob.page.getByTestId("message").filter({ hasText: "Are you still there?" }).waitFor({ timeout: 60_000 });
      await expect.poll(() => jump.textContent()).toContain("1");
      expect(await timeline(bob.page).evaluate((t) => t.scrollTop)).toBe(readingAt);
      expect(await newestWhole(bob.page)).toBe(false);
      await shot(bob.page, "jump-to-newest");
      // Delivered to Bob, not read: it is not on his screen.
      const aliceTick = alice.page.getByTestId("message").filter({ hasText: "Are you still there?" }).getByTestId("tick");
      await expect.poll(() => aliceTick.getAttribute("data-status"), { timeout: 30_000 }).toBe("delivered");
      await alice.page.waitForTimeout(3000);
      expect(await aliceTick.getAttribute("data-status")).toBe("delivered");

      await jump.focus();
      await bob.page.keyboard.press("Enter");
      await expect.poll(() => newestWhole(bob.page)).toBe(true);
      await expect.poll(() => jump.count()).toBe(0);
      await expect.poll(() => aliceTick.getAttribute("data-status"), { timeout: 30_000 }).toBe("read");
    }, 180_000);

    it("a message coming while Bob's page is hidden, his chat open at the newest, is read only once he is back", async () => {
      const setHidden = (hidden: boolean) =>
        bob.page.evaluate((hide) => {
          if (hide) Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
          else delete (document as unknown as { visibilityState?: string }).visibilityState;
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
      await setHidden(true);
      await composer(alice.page).fill("Back soon?");
      await composer(alice.page).press("Enter");
      await bob.page.getByTestId("message").filter({ hasText: "Back soon?" }).waitFor({ timeout: 60_000 });
      const aliceTick = alice.page.getByTestId("message").filter({ hasText: "Back soon?" }).getByTestId("tick");
      await expect.poll(() => aliceTick.getAttribute("data-status"), { timeout: 30_000 }).toBe("delivered");
      await alice.page.waitForTimeout(3000);
      expect(await aliceTick.getAttribute("data-status")).toBe("delivered");

      await setHidden(false);
      await expect.poll(() => aliceTick.getAttribute("data-status"), { timeout: 30_000 }).toBe("read");
      expect(await newestWhole(bob.page)).toBe(true);
    }, 120_000);
  });
});
