import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { allowLoopbackCandidates, befriend, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// The conversation header tells which way messages travel (PROTOCOL §10): relayed by the
// servers, through the hub's server only, or straight between the two browsers (WebRTC).
describe("the message path shown in the conversation header", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    world = await startWorld({
      portBase: 8881,
      inspectorBase: 9481,
      browserArgs: ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
    });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const path = (page: Page) => page.getByTestId("message-path");
  const pathIs = async (page: Page, which: string, label: string) => {
    await page.locator(`[data-testid=message-path][data-path=${which}]`).waitFor({ timeout: 30_000 });
    expect(await path(page).textContent()).toContain(label);
  };
  const say = async (page: Page, text: string) => {
    const composer = page.getByLabel("Message", { exact: true });
    await composer.fill(text);
    await composer.press("Enter");
  };
  const shownOnce = async (page: Page, text: string) => {
    await page.getByTestId("message").filter({ hasText: text }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId("message").filter({ hasText: text }).count()).toBe(1);
  };

  it("makes two friends on two domains and starts their chat", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    for (const person of [alice, bob]) await allowLoopbackCandidates(person.page);
    await befriend(alice, bob);

    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    await say(alice.page, "Hello Bob, by mail first");
    // Alice's own server is the hub: once the conversation exists she holds a session to it.
    await pathIs(alice.page, "session", "Via im.alice.test");
  });

  it("goes direct when both have the chat open, and messages arrive both ways once", async () => {
    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click();
    await shownOnce(bob.page, "Hello Bob, by mail first");
    await pathIs(bob.page, "direct", "Direct");
    await pathIs(alice.page, "direct", "Direct");
    expect(await path(alice.page).getAttribute("title")).toContain("straight between your browser and theirs");

    await say(bob.page, "Hi Alice, straight to you");
    await shownOnce(alice.page, "Hi Alice, straight to you");
    await say(alice.page, "And back, 直接");
    await shownOnce(bob.page, "And back, 直接");
    // Alice has the chat open, so her device acknowledges it as read (or delivered, before that).
    await bob.page.getByTestId("message").filter({ hasText: "Hi Alice, straight to you" }).locator("[data-status=delivered], [data-status=read]").first().waitFor({ timeout: 20_000 });
    await shot(alice.page, "path-direct");
    // The hub brings every direct message again. Alice leaves the chat, so the direct channel
    // closes and Bob's next message comes only through the hub, which orders it after his direct
    // ones: once Alice shows it, she has read their hub copies too, and still shows each once.
    await openTab(alice.page, "Friends");
    await pathIs(bob.page, "session", "Via im.alice.test");
    await say(bob.page, "Only through the hub");
    await openTab(alice.page, "Chats");
    await shownOnce(alice.page, "Only through the hub");
    for (const text of ["Hello Bob, by mail first", "Hi Alice, straight to you", "And back, 直接"]) await shownOnce(alice.page, text);
  });

  it("falls back when one leaves the chat, and goes direct again when they return", async () => {
    await openTab(bob.page, "Friends");
    await pathIs(alice.page, "session", "Via im.alice.test");
    await say(alice.page, "Still there?");
    await openTab(bob.page, "Chats");
    await shownOnce(bob.page, "Still there?");
    // That came only through the hub, after Alice's direct messages: their hub copies were read too.
    for (const text of ["Hello Bob, by mail first", "Hi Alice, straight to you", "And back, 直接", "Only through the hub"]) await shownOnce(bob.page, text);
    await pathIs(bob.page, "direct", "Direct");
    await pathIs(alice.page, "direct", "Direct");
  });

  it("shows Relayed while the page is hidden, and messages still arrive", async () => {
    await alice.page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await pathIs(alice.page, "relay", "Relayed");
    expect(await path(alice.page).textContent()).toContain("relayed by your server and theirs");
    await pathIs(bob.page, "session", "Via im.alice.test");
    await shot(bob.page, "path-session");
    await say(bob.page, "Relayed while you were away");
    await shownOnce(alice.page, "Relayed while you were away");
    await alice.page.evaluate(() => {
      delete (document as unknown as { visibilityState?: string }).visibilityState;
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await pathIs(alice.page, "direct", "Direct");
  });

  it("names the path in Simplified Chinese", async () => {
    await openTab(bob.page, "Settings");
    await bob.page.getByLabel("Language").selectOption("zh-CN");
    await bob.page.getByRole("navigation").getByRole("button", { name: "聊天" }).click();
    await pathIs(bob.page, "direct", "直连");
  });
});
