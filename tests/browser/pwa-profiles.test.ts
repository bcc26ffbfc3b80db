import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { befriend, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// Display names and avatars (PROTOCOL §8.2) across two domains: Alice (im.alice.test) sets hers in
// Settings; Bob (im.bob.test) sees them in his chat list, the chat header and a group's author
// labels, and a change without reloading. Mallory, a member of the same group, takes a name that
// reads like Alice's: Bob sees both names with their addresses.
describe("display names and avatars in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  let mallory: Person;

  beforeAll(async () => {
    world = await startWorld({ portBase: 19160, inspectorBase: 20160 });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const setProfile = async (person: Person, name: string, picture?: number[]) => {
    await openTab(person.page, "Settings");
    const form = person.page.getByTestId("profile-form");
    if (picture) {
      await form.getByTestId("avatar-file").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: Buffer.from(picture) });
      await form.getByTestId("avatar-image").waitFor();
    }
    await form.getByLabel("Display name").fill(name);
    await form.getByRole("button", { name: "Save profile" }).click();
    await form.getByText("Saved").waitFor();
  };
  const chatRow = (page: Page, text: string) => page.getByTestId("chat-row").filter({ hasText: text });
  /** The row of a 1:1, found by the address it always carries; its title is the name shown. */
  const rowTitle = (page: Page, address: string) => page.locator(`[data-testid=chat-row][title="${address}"] .title`).textContent();
  const say = async (page: Page, text: string) => {
    const composer = page.getByLabel("Message", { exact: true });
    await composer.fill(text);
    await composer.press("Enter");
  };
  const senderOf = (page: Page, text: string) => page.getByTestId("message").filter({ hasText: text }).getByTestId("sender");

  it("makes Bob the friend of Alice and of Mallory, and Mallory Alice's", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    mallory = await register(world, world.bob, "im.bob.test", "mallory");
    await befriend(alice, bob);
    await befriend(alice, mallory);
  }, 180_000);

  it("Alice sets a name and a picture; a wrong name is refused with a reason first", async () => {
    await openTab(alice.page, "Settings");
    const form = alice.page.getByTestId("profile-form");
    await form.getByLabel("Display name").fill("Alice\u202Eecila");
    await form.getByRole("button", { name: "Save profile" }).click();
    await form.getByText("A name cannot hold control or text-direction characters.").waitFor();
    const picture = await alice.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(900, 600);
      const g = canvas.getContext("2d")!;
      g.fillStyle = "#c33";
      g.fillRect(0, 0, 900, 600);
      g.fillStyle = "#fff";
      g.fillRect(350, 200, 200, 200);
      return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer()));
    });
    await setProfile(alice, "Alice Liddell", picture);
    // The picture was cropped to a square and shrunk on the device.
    const size = await form.getByTestId("avatar-image").evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    expect(size).toEqual([256, 256]);
    await shot(alice.page, "profile-settings");
  }, 60_000);

  it("Bob sees her name and picture in his chat list and the chat's header, her address under the name", async () => {
    await openTab(bob.page, "Chats");
    const row = chatRow(bob.page, "Alice Liddell");
    await row.waitFor({ timeout: 60_000 });
    expect(await row.getAttribute("title")).toBe(alice.address);
    await row.getByTestId("avatar-image").waitFor();
    await row.click();
    await expect.poll(() => bob.page.locator("#conv-title").textContent(), { timeout: 30_000 }).toBe("Alice Liddell");
    expect(await bob.page.getByTestId("peer-address").textContent()).toBe(alice.address);
    const header = bob.page.locator(".conversation .pane-head");
    const pixel = await header.getByTestId("avatar-image").evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
      const g = canvas.getContext("2d")!;
      g.drawImage(img, 0, 0);
      return [...g.getImageData(5, 5, 1, 1).data.slice(0, 3), ...g.getImageData(128, 128, 1, 1).data.slice(0, 3)];
    });
    // The red picture's corner, and its white centre.
    expect(pixel[0]).toBeGreaterThan(150);
    expect(pixel[1]).toBeLessThan(100);
    expect(pixel.slice(3).every((c) => c > 200)).toBe(true);
    await shot(bob.page, "profile-chat");
  }, 90_000);

  it("in a group, Alice's messages are headed with her name", async () => {
    await openTab(alice.page, "Chats");
    await alice.page.getByRole("button", { name: "New group" }).click();
    const dialog = alice.page.getByTestId("new-group-dialog");
    await dialog.getByLabel("Group name").fill("Tea party");
    await dialog.getByRole("checkbox", { name: bob.address }).check();
    await dialog.getByRole("checkbox", { name: mallory.address }).check();
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.waitFor({ state: "detached", timeout: 30_000 });
    await say(alice.page, "Tea is ready");
    await openTab(bob.page, "Chats");
    await chatRow(bob.page, "Tea party").click({ timeout: 60_000 });
    await expect.poll(() => senderOf(bob.page, "Tea is ready").textContent(), { timeout: 60_000 }).toBe("Alice Liddell");
    expect(await senderOf(bob.page, "Tea is ready").getAttribute("title")).toBe(alice.address);
  }, 120_000);

  it("a changed name reaches Bob's open group, chat list and friend list without a reload", async () => {
    await setProfile(alice, "Alice L.");
    await expect.poll(() => senderOf(bob.page, "Tea is ready").textContent(), { timeout: 60_000 }).toBe("Alice L.");
    await expect.poll(() => rowTitle(bob.page, alice.address), { timeout: 30_000 }).toBe("Alice L.");
    await openTab(bob.page, "Friends");
    const friend = bob.page.getByTestId("friend-list").getByTestId("person").filter({ hasText: alice.address });
    await expect.poll(() => friend.getByTestId("person-name").textContent(), { timeout: 30_000 }).toBe("Alice L.");
    await openTab(bob.page, "Chats");
  }, 90_000);

  it("Mallory's name that imitates Alice's is shown with her address, and so is Alice's", async () => {
    // A capital I for the l: it reads the same.
    await setProfile(mallory, "AIice L.");
    await openTab(mallory.page, "Chats");
    await chatRow(mallory.page, "Tea party").click({ timeout: 60_000 });
    await say(mallory.page, "Send the tea money to me");
    await chatRow(bob.page, "Tea party").click();
    await expect.poll(() => senderOf(bob.page, "Send the tea money to me").textContent(), { timeout: 60_000 }).toBe(`AIice L. (${mallory.address})`);
    await expect.poll(() => senderOf(bob.page, "Tea is ready").textContent(), { timeout: 30_000 }).toBe(`Alice L. (${alice.address})`);
    // The chat list names Alice's 1:1 with her address too.
    await expect.poll(() => rowTitle(bob.page, alice.address), { timeout: 30_000 }).toBe(`Alice L. (${alice.address})`);
    // The group's member list shows each name over its address.
    await bob.page.getByRole("button", { name: "Group info" }).click();
    const members = bob.page.getByTestId("group-members").getByTestId("group-member");
    await members.filter({ hasText: mallory.address }).getByText(`AIice L. (${mallory.address})`).waitFor();
    await shot(bob.page, "profile-imitation");
  }, 120_000);

  it("a narrow chat list keeps a group's name whole before its member count", async () => {
    // The group's member list is still open from the step before.
    await bob.page.keyboard.press("Escape");
    await bob.page.setViewportSize({ width: 320, height: 700 });
    await bob.page.getByRole("button", { name: "Back", exact: true }).click();
    const row = chatRow(bob.page, "Tea party");
    const whole = (selector: string) => row.locator(selector).evaluate((e) => e.scrollWidth <= e.clientWidth && e.clientWidth > 0);
    await row.waitFor();
    expect(await whole(".title")).toBe(true);
    await bob.page.setViewportSize({ width: 1180, height: 760 });
  });

  it("Frank, writing the moment Alice accepts him while her app makes their 1:1 for her profile, has one chat with her", async () => {
    const frank = await register(world, world.bob, "im.bob.test", "frank");
    await befriend(frank, alice);
    await frank.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    await say(frank.page, "Hi Alice, Frank here");
    const rows = (page: Page, address: string) => page.locator(`[data-testid=chat-row][title="${address}"]`);
    await openTab(alice.page, "Chats");
    await rows(alice.page, frank.address).filter({ hasText: "Hi Alice, Frank here" }).waitFor({ timeout: 30_000 });
    // Her profile came in the 1:1 her app made: both 1:1s have reached both sides by now.
    await expect.poll(() => rowTitle(frank.page, alice.address), { timeout: 30_000 }).toBe("Alice L.");
    expect(await rows(alice.page, frank.address).count()).toBe(1);
    expect(await rows(frank.page, alice.address).count()).toBe(1);
    await rows(alice.page, frank.address).click();
    await say(alice.page, "Welcome, Frank");
    const message = (page: Page, text: string) => page.getByTestId("message").filter({ hasText: text });
    await message(frank.page, "Welcome, Frank").waitFor({ timeout: 30_000 });
    await message(frank.page, "Hi Alice, Frank here").waitFor();
    await message(alice.page, "Hi Alice, Frank here").waitFor();
    expect(await rows(frank.page, alice.address).count()).toBe(1);
  }, 120_000);
});
