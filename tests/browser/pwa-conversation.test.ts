import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Locator, Page } from "playwright-core";
import { befriend, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// Alice (im.alice.test) and Bob (im.bob.test) use what a chat app is expected to have (issue 17):
// links, replies, reactions, edits, deletes for everyone, read ticks, typing, drafts and copying.
describe("conversation features in the PWA across two domains", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    world = await startWorld({ portBase: 18975, inspectorBase: 19975 });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const composer = (page: Page) => page.getByLabel("Message", { exact: true });
  const say = async (page: Page, text: string) => {
    await composer(page).fill(text);
    await composer(page).press("Enter");
  };
  const message = (page: Page, text: string) => page.getByTestId("message").filter({ hasText: text });
  const menu = (page: Page, text: string) => menuOf(message(page, text));
  const menuOf = async (row: Locator) => {
    await row.hover();
    await row.getByLabel("Message actions").first().click();
    return row.getByRole("group", { name: "Message actions" });
  };
  /**
   * Whether an open message menu shows whole: on screen, inside the timeline (not under the chat's
   * header or list), and each of its buttons what a click at its middle hits.
   */
  const menuWhole = (actions: Locator) =>
    actions.evaluate((menu) => {
      const box = menu.getBoundingClientRect();
      const timeline = menu.closest('[data-testid="timeline"]')!.getBoundingClientRect();
      const header = document.querySelector(".conversation .pane-head")!.getBoundingClientRect();
      const inside = box.top >= Math.max(timeline.top, header.bottom) && box.bottom <= Math.min(timeline.bottom, innerHeight)
        && box.left >= Math.max(timeline.left, 0) && box.right <= Math.min(timeline.right, innerWidth);
      const missed = [...menu.querySelectorAll("button")].filter((button) => {
        const b = button.getBoundingClientRect();
        return document.elementFromPoint((b.left + b.right) / 2, (b.top + b.bottom) / 2) !== button;
      });
      return { inside, missed: missed.map((button) => button.getAttribute("aria-label") ?? button.textContent) };
    });
  const openChat = async (person: Person, withWhom: string) => {
    await openTab(person.page, "Chats");
    const row = person.page.getByTestId("chat-row").filter({ hasText: withWhom });
    await row.waitFor({ timeout: 30_000 });
    await row.click();
  };

  it("makes Alice and Bob friends and opens their chat", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await befriend(alice, bob);
    // On a desktop the friend's address keeps one line: the buttons go under it, not beside it.
    const row = alice.page.getByTestId("friend-list").getByTestId("person").filter({ hasText: bob.address });
    const laid = await row.evaluate((person) => {
      const name = person.querySelector('[data-testid="person-name"]')!;
      const words = document.createRange();
      words.selectNodeContents(name);
      const lines = new Set([...words.getClientRects()].map((r) => Math.round(r.top)));
      const firstButton = person.querySelector(".actions button")!.getBoundingClientRect();
      return { text: name.textContent, lines: lines.size, buttonsBelow: firstButton.top >= name.getBoundingClientRect().bottom };
    });
    expect(laid).toEqual({ text: bob.address, lines: 1, buttonsBelow: true });
    await shot(alice.page, "friend-row-desktop");
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    await say(alice.page, "Plans are at https://example.com/plan?x=1. Not javascript:alert(1)");
    await openChat(bob, alice.address);
    await message(bob.page, "Plans are at").waitFor({ timeout: 30_000 });
  });

  it("shows http and https addresses as links that open safely, and nothing else as a link", async () => {
    const links = message(bob.page, "Plans are at").locator("a");
    expect(await links.count()).toBe(1);
    expect(await links.first().getAttribute("href")).toBe("https://example.com/plan?x=1");
    expect(await links.first().getAttribute("rel")).toBe("noopener noreferrer");
    expect(await links.first().getAttribute("target")).toBe("_blank");
    expect(await links.first().textContent()).toBe("https://example.com/plan?x=1");
  });

  it("opens the menu of a message at the top of a chat below it, whole, whether received or one's own", async () => {
    const received = await menu(bob.page, "Plans are at");
    expect(await menuWhole(received)).toEqual({ inside: true, missed: [] });
    await shot(bob.page, "conversation-menu-top");
    await bob.page.keyboard.press("Escape");
    const own = await menu(alice.page, "Plans are at");
    expect(await menuWhole(own)).toEqual({ inside: true, missed: [] });
    await alice.page.keyboard.press("Escape");
  });

  it("shows Alice her message read (blue ticks) once Bob has the chat open", async () => {
    const tick = message(alice.page, "Plans are at").getByTestId("tick");
    await expect.poll(() => tick.getAttribute("data-status"), { timeout: 30_000 }).toBe("read");
    expect(await tick.getAttribute("aria-label")).toBe("Read");
    // Read is told from delivered by shape, not colour alone: white ticks on a filled pill, clearly contrasting.
    const look = await tick.evaluate((el) => {
      const style = getComputedStyle(el);
      const rgb = (c: string) => c.match(/\d+/g)!.slice(0, 3).map(Number);
      const lum = (c: string) => {
        const [r, g, b] = rgb(c).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
      return { filled: style.backgroundColor !== "rgba(0, 0, 0, 0)", rounded: parseFloat(style.borderRadius) > 0, contrast: (a! + 0.05) / (b! + 0.05) };
    });
    expect(look.filled && look.rounded).toBe(true);
    expect(look.contrast).toBeGreaterThanOrEqual(4.5);
  });

  it("shows Bob typing to Alice while he writes", async () => {
    await composer(bob.page).fill("Let me check");
    await alice.page.getByTestId("typing").getByText("is typing…").waitFor({ timeout: 30_000 });
  });

  it("carries Bob's reply with the quoted message above it", async () => {
    const actions = await menu(bob.page, "Plans are at");
    await actions.getByRole("button", { name: "Reply" }).click();
    await bob.page.getByTestId("compose-context").getByText("Replying to").waitFor();
    // The cursor is in the message box, ready for the answer.
    await expect.poll(() => composer(bob.page).evaluate((field) => field === document.activeElement)).toBe(true);
    await say(bob.page, "Looks good to me");
    const reply = message(alice.page, "Looks good to me");
    await reply.waitFor({ timeout: 30_000 });
    expect(await reply.getByTestId("quote").textContent()).toContain("Plans are at https://example.com/plan");
    expect(await reply.getByTestId("quote").textContent()).toContain("You");
  });

  it("takes Alice to the message a reply quotes when she taps its quote, far up the chat", async () => {
    for (let i = 1; i <= 30; i++) await say(bob.page, `Filler line ${i}`);
    await message(alice.page, "Filler line 30").waitFor({ timeout: 30_000 });
    // The first: the reply before quotes it too.
    const actions = await menuOf(message(bob.page, "Plans are at").first());
    await actions.getByRole("button", { name: "Reply" }).click();
    await say(bob.page, "About that link again");
    const reply = message(alice.page, "About that link again");
    await reply.waitFor({ timeout: 30_000 });
    const quoted = message(alice.page, "Plans are at").first();
    const inView = (row: Locator) => row.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const view = element.closest('[data-testid="timeline"]')!.getBoundingClientRect();
      return box.top >= view.top && box.bottom <= view.bottom;
    });
    expect(await inView(quoted)).toBe(false);
    await reply.getByTestId("quote").click();
    await expect.poll(() => inView(quoted)).toBe(true);
    expect(await quoted.getAttribute("data-shown")).toBe("true");
    // It stays there: the chat does not pull back to its newest message.
    await alice.page.waitForTimeout(300);
    expect(await inView(quoted)).toBe(true);
    expect(await inView(reply)).toBe(false);
    // From the keyboard: the button goes once used, and the cursor waits in the message box, not lost to the page.
    await alice.page.getByTestId("jump-newest").focus();
    await alice.page.keyboard.press("Enter");
    await expect.poll(() => inView(reply)).toBe(true);
    await expect.poll(() => composer(alice.page).evaluate((field) => field === document.activeElement)).toBe(true);
  });

  it("opens a chat at its first unread message, under a line saying how many, and reads them only at the newest", async () => {
    const row = alice.page.getByTestId("chat-row").filter({ hasText: bob.address });
    // She read everything before: no unread count on the chat.
    await expect.poll(() => row.locator(".badge").count()).toBe(0);
    // Alice's app starts again with no chat open while Bob writes more than her screen holds.
    await alice.page.reload();
    await alice.page.getByRole("navigation").waitFor();
    for (let i = 1; i <= 25; i++) await say(bob.page, `Unread line ${i}`);
    const last = message(bob.page, "Unread line 25").getByTestId("tick");
    await expect.poll(() => last.getAttribute("data-status"), { timeout: 30_000 }).toBe("delivered");
    await row.getByLabel("25 unread").waitFor({ timeout: 30_000 });
    await row.click();
    const line = alice.page.getByTestId("unread-line");
    await line.waitFor();
    expect(await line.textContent()).toBe("25 unread messages");
    const inView = (target: Locator) => target.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const view = element.closest('[data-testid="timeline"]')!.getBoundingClientRect();
      return box.top >= view.top && box.bottom <= view.bottom;
    });
    // The line near the top, the first unread message under it; the newest further down.
    expect(await inView(line)).toBe(true);
    expect(await inView(message(alice.page, "Unread line 1").first())).toBe(true);
    expect(await inView(message(alice.page, "Unread line 25"))).toBe(false);
    await shot(alice.page, "conversation-unread-line");
    // Not read yet: Bob's ticks stay grey, and the jump button takes Alice to the newest.
    await alice.page.waitForTimeout(1500);
    expect(await last.getAttribute("data-status")).toBe("delivered");
    expect(await alice.page.getByTestId("jump-newest").getAttribute("aria-label")).toBe("25 new: jump to the newest message");
    await alice.page.getByTestId("jump-newest").click();
    await expect.poll(() => inView(message(alice.page, "Unread line 25"))).toBe(true);
    await expect.poll(() => last.getAttribute("data-status"), { timeout: 30_000 }).toBe("read");
    // What came before the page the chat opened with is still there above, a page at a time.
    const earlier = alice.page.getByRole("button", { name: "Show earlier messages" });
    for (let pages = 0; pages < 3 && (await message(alice.page, "Plans are at").count()) === 0; pages++) {
      await earlier.click();
      // Enabled again once the page is read; gone when it was the first.
      await expect.poll(async () => (await earlier.count()) === 0 || (await earlier.isEnabled())).toBe(true);
    }
    expect(await message(alice.page, "Plans are at").count()).toBeGreaterThan(0);
  });

  it("closes a message's menu on Escape (back to its ⋯), on a click elsewhere, and when another opens", async () => {
    // Her first message (the reply quotes it too).
    const plans = message(alice.page, "Plans are at").first();
    const first = await menuOf(plans);
    await first.waitFor();
    await alice.page.keyboard.press("Escape");
    await expect.poll(() => first.isVisible()).toBe(false);
    expect(await alice.page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Message actions");
    await menuOf(plans);
    await first.waitFor();
    await alice.page.locator("#conv-title").click();
    await expect.poll(() => first.isVisible()).toBe(false);
    await menuOf(plans);
    // Opened from the keyboard: no click elsewhere closes the first.
    const next = message(alice.page, "Looks good to me");
    await next.getByLabel("Message actions").first().focus();
    await alice.page.keyboard.press("Enter");
    const second = next.getByRole("group", { name: "Message actions" });
    await second.waitFor();
    await expect.poll(() => first.isVisible()).toBe(false);
    await alice.page.keyboard.press("Escape");
    await expect.poll(() => second.isVisible()).toBe(false);
  });

  it("carries a reaction to the other side and takes it back again", async () => {
    const actions = await menu(alice.page, "Looks good to me");
    await actions.getByRole("button", { name: "React with 👍" }).click();
    const onBob = message(bob.page, "Looks good to me").getByTestId("reaction");
    await expect.poll(() => onBob.textContent(), { timeout: 30_000 }).toBe("👍 1");
    await message(alice.page, "Looks good to me").getByTestId("reaction").click();
    await expect.poll(() => onBob.count(), { timeout: 30_000 }).toBe(0);
  });

  it("carries Alice's edit to Bob, marked edited", async () => {
    await say(alice.page, "Meet at 5");
    await message(bob.page, "Meet at 5").waitFor({ timeout: 30_000 });
    const actions = await menu(alice.page, "Meet at 5");
    await actions.getByRole("button", { name: "Edit" }).click();
    expect(await composer(alice.page).inputValue()).toBe("Meet at 5");
    await composer(alice.page).fill("Meet at 6");
    await composer(alice.page).press("Enter");
    const edited = message(bob.page, "Meet at 6");
    await edited.waitFor({ timeout: 30_000 });
    await edited.getByTestId("edited").waitFor();
    expect(await message(bob.page, "Meet at 5").count()).toBe(0);
    // Only one's own messages offer Edit and Delete.
    const bobsMenu = await menu(bob.page, "Meet at 6");
    // Its menu is open (Reply is in it) before Edit is found missing from it.
    await bobsMenu.getByRole("button", { name: "Reply" }).waitFor();
    expect(await bobsMenu.getByRole("button", { name: "Edit" }).count()).toBe(0);
    await bob.page.keyboard.press("Escape");
  });

  it("deletes Alice's message for everyone after she confirms", async () => {
    await say(alice.page, "Oops, wrong chat");
    await message(bob.page, "Oops, wrong chat").waitFor({ timeout: 30_000 });
    alice.page.once("dialog", (dialog) => void dialog.accept());
    const actions = await menu(alice.page, "Oops, wrong chat");
    await actions.getByRole("button", { name: "Delete for everyone" }).click();
    await expect.poll(() => message(bob.page, "Oops, wrong chat").count(), { timeout: 30_000 }).toBe(0);
    await bob.page.getByTestId("deleted").filter({ hasText: "This message was deleted" }).waitFor();
    await shot(bob.page, "conversation-features");
  });

  it("opens a photo full screen with the focus on a Close that stands out, and Escape closes it", async () => {
    const png = await alice.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(320, 240);
      const g = canvas.getContext("2d")!;
      g.fillStyle = "#2a7";
      g.fillRect(0, 0, 320, 240);
      return Array.from(new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer()));
    });
    await alice.page.getByTestId("file-input").setInputFiles({ name: "lawn.png", mimeType: "image/png", buffer: Buffer.from(png) });
    const photo = bob.page.getByTestId("image-full");
    await photo.waitFor({ timeout: 60_000 });
    await photo.click();
    const viewer = bob.page.getByTestId("viewer");
    await viewer.waitFor();
    const close = viewer.getByRole("button", { name: "Close" });
    expect(await close.evaluate((button) => button === document.activeElement)).toBe(true);
    // Its words against what is behind them: its own background over the viewer's over the page.
    const contrast = await close.evaluate((button) => {
      const rgba = (color: string) => {
        const [r = 0, g = 0, b = 0, a = 1] = color.match(/[\d.]+/g)!.map(Number);
        return [r, g, b, a] as const;
      };
      const over = (top: readonly number[], under: readonly number[]) => [0, 1, 2].map((i) => top[i]! * top[3]! + under[i]! * (1 - top[3]!)).concat(1);
      const back = [button.parentElement!, button].reduce((under, el) => over(rgba(getComputedStyle(el).backgroundColor), under), [255, 255, 255, 1]);
      const text = over(rgba(getComputedStyle(button).color), back);
      const luminance = (c: number[]) => {
        const [r, g, b] = c.slice(0, 3).map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const [light, dark] = [luminance(back), luminance(text)].sort((a, b) => b - a);
      return (light! + 0.05) / (dark! + 0.05);
    });
    expect(contrast).toBeGreaterThanOrEqual(4.5);
    await shot(bob.page, "conversation-viewer");
    await bob.page.keyboard.press("Escape");
    await expect.poll(() => viewer.count()).toBe(0);
    expect(await bob.page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("View lawn.png");
  });

  it("grows the message box with its lines and back after sending, and leaves the words most of a phone's width", async () => {
    const box = composer(alice.page);
    const height = () => box.evaluate((field) => field.getBoundingClientRect().height);
    const oneLine = await height();
    await box.click();
    for (const [i, word] of ["one", "two", "three", "four", "five"].entries()) {
      if (i > 0) await box.press("Shift+Enter");
      await box.pressSequentially(`Line ${word}`);
    }
    const lineHeight = await box.evaluate((field) => parseFloat(getComputedStyle(field).lineHeight));
    expect(await height()).toBeGreaterThanOrEqual(oneLine + 4 * lineHeight - 1);
    // All five lines show: nothing in it is scrolled out of sight.
    expect(await box.evaluate((field) => field.scrollHeight <= field.clientHeight + 1)).toBe(true);
    await box.press("Enter");
    await message(bob.page, "Line five").waitFor({ timeout: 30_000 });
    await expect.poll(height).toBe(oneLine);
    await alice.page.setViewportSize({ width: 390, height: 844 });
    try {
      const width = async () => {
        const [field, form] = await Promise.all([box.boundingBox(), alice.page.locator("form.composer").boundingBox()]);
        return field!.width / form!.width;
      };
      expect(await width()).toBeGreaterThanOrEqual(0.6);
      await box.fill("Writing on a phone");
      expect(await width()).toBeGreaterThanOrEqual(0.6);
      await shot(alice.page, "conversation-phone-composer");
      await box.fill("");
    } finally {
      await alice.page.setViewportSize({ width: 1180, height: 760 });
    }
  });

  it("keeps a half-written message when switching chats and after a reload", async () => {
    const carol = await register(world, world.bob, "im.bob.test", "carol");
    await befriend(alice, carol);
    await alice.page.getByTestId("friend-list").getByTestId("person").filter({ hasText: carol.address }).getByRole("button", { name: "Message" }).click();
    await say(alice.page, "Hi Carol");
    await openChat(alice, bob.address);
    await composer(alice.page).fill("Half a thought for Bob");
    await openChat(alice, carol.address);
    await message(alice.page, "Hi Carol").waitFor();
    expect(await composer(alice.page).inputValue()).toBe("");
    await composer(alice.page).fill("For Carol, later");
    await openChat(alice, bob.address);
    await expect.poll(() => composer(alice.page).inputValue()).toBe("Half a thought for Bob");
    await alice.page.reload();
    await alice.page.getByRole("navigation").waitFor();
    await openChat(alice, bob.address);
    await expect.poll(() => composer(alice.page).inputValue()).toBe("Half a thought for Bob");
    await openChat(alice, carol.address);
    await expect.poll(() => composer(alice.page).inputValue()).toBe("For Carol, later");
    await composer(alice.page).fill("");
  });

  it("copies a message's words", async () => {
    await openChat(alice, bob.address);
    await alice.context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const actions = await menu(alice.page, "Meet at 6");
    await actions.getByRole("button", { name: "Copy" }).click();
    await actions.getByRole("button", { name: "Copied" }).waitFor();
    expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toBe("Meet at 6");
  });

  it("finds messages by their words on this device: edited ones by the new words, deleted ones never", async () => {
    await openTab(bob.page, "Chats");
    const search = bob.page.getByRole("searchbox", { name: "Search messages" });
    const hits = bob.page.getByTestId("search-hit");
    await search.fill("MEET");
    await expect.poll(() => hits.allTextContents()).toEqual([expect.stringContaining("Meet at 6")]);
    await search.fill("oops wrong");
    await bob.page.getByText("No messages found.").waitFor();
    await search.fill("plan");
    await expect.poll(() => hits.count()).toBe(1);
    await hits.first().click();
    await message(bob.page, "Plans are at").first().waitFor();
    await search.fill("");
  });

  it("with read receipts and typing off in Settings, Bob's reading and typing are not shown to Alice", async () => {
    await openTab(bob.page, "Settings");
    const setting = bob.page.getByRole("checkbox", { name: "Read receipts and typing" });
    expect(await setting.isChecked()).toBe(true);
    await setting.uncheck();
    await expect.poll(() => setting.isChecked()).toBe(false);
    await openChat(alice, bob.address);
    await say(alice.page, "Are you there?");
    await openChat(bob, alice.address);
    await message(bob.page, "Are you there?").waitFor({ timeout: 30_000 });
    await composer(bob.page).fill("typing quietly");
    const tick = message(alice.page, "Are you there?").getByTestId("tick");
    await expect.poll(() => tick.getAttribute("data-status"), { timeout: 30_000 }).toBe("delivered");
    // Time for a read receipt or typing to arrive, had one been sent.
    await alice.page.waitForTimeout(3000);
    expect(await tick.getAttribute("data-status")).toBe("delivered");
    expect(await alice.page.getByTestId("typing").count()).toBe(0);
    await composer(bob.page).fill("");
  });

  it("keeps a pinned chat at the top of the list and marks a muted one", async () => {
    const rows = alice.page.getByTestId("chat-row");
    await openChat(alice, bob.address);
    await expect.poll(() => rows.first().textContent()).toContain(bob.address);
    await openChat(alice, "carol#im.bob.test");
    await alice.page.getByRole("button", { name: "Pin", exact: true }).click();
    await expect.poll(() => rows.first().textContent()).toContain("carol#im.bob.test");
    await rows.first().getByTestId("pinned").waitFor();
    await openChat(alice, bob.address);
    await alice.page.getByRole("button", { name: "Mute", exact: true }).click();
    await rows.filter({ hasText: bob.address }).getByTestId("muted").waitFor();
    // Marks stay after a reload.
    await alice.page.reload();
    await alice.page.getByRole("navigation").waitFor();
    await openTab(alice.page, "Chats");
    await expect.poll(() => rows.first().textContent(), { timeout: 30_000 }).toContain("carol#im.bob.test");
    await rows.filter({ hasText: bob.address }).getByTestId("muted").waitFor();
  });

  it("removes a friend from the Friends tab after asking, keeping the chat readable", async () => {
    await openTab(alice.page, "Friends");
    const carolRow = alice.page.getByTestId("friend-list").getByTestId("person").filter({ hasText: "carol#im.bob.test" });
    alice.page.once("dialog", (dialog) => void dialog.accept());
    await carolRow.getByRole("button", { name: "Remove" }).click();
    await expect.poll(() => carolRow.count(), { timeout: 30_000 }).toBe(0);
    await openChat(alice, "carol#im.bob.test");
    await message(alice.page, "Hi Carol").waitFor();
    // Writing again needs a new friend request.
    await alice.page.getByText("You can write once carol#im.bob.test accepts your friend request.").waitFor();
  });

  it("keeps 发送 on one line in Chinese on a narrow phone screen", async () => {
    await openChat(alice, bob.address);
    await openTab(alice.page, "Settings");
    await alice.page.locator("#language").selectOption("zh-CN");
    await alice.page.setViewportSize({ width: 320, height: 640 });
    await alice.page.getByRole("navigation").getByRole("button", { name: "聊天" }).click();
    // On a phone the open chat fills the screen; the list shows only when none is open.
    const row = alice.page.getByTestId("chat-row").filter({ hasText: bob.address });
    if (await row.isVisible()) await row.click();
    const send = alice.page.locator("form.composer button[type=submit]");
    await send.getByText("发送").waitFor();
    // One line box for the label: it did not wrap.
    const lines = await send.evaluate((button) => {
      const range = document.createRange();
      range.selectNodeContents(button);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(lines).toBe(1);
    await shot(alice.page, "conversation-zh-narrow");
  });

  it("shows a friend request on a phone with its buttons clear of the requester's address", async () => {
    const dorothea = await register(world, world.alice, "im.alice.test", "dorothea");
    await openTab(dorothea.page, "Friends");
    await dorothea.page.getByLabel("Address or emsg: link").fill(bob.address);
    await dorothea.page.getByRole("button", { name: "Send request" }).click();
    await bob.page.setViewportSize({ width: 390, height: 844 });
    try {
      await openTab(bob.page, "Friends");
      const request = bob.page.getByTestId("incoming").getByTestId("person").filter({ hasText: dorothea.address });
      await request.waitFor({ timeout: 30_000 });
      const clash = await request.evaluate((row) => {
        const words = document.createRange();
        words.selectNodeContents(row.querySelector('[data-testid="person-name"]')!);
        const lines = [...words.getClientRects()];
        const right = lines.reduce((most, line) => Math.max(most, line.right), 0);
        return [...row.querySelectorAll("button")].filter((button) => {
          const b = button.getBoundingClientRect();
          return lines.some((line) => b.left < line.right && line.left < b.right && b.top < line.bottom && line.top < b.bottom);
        }).map((button) => button.textContent).concat(right > innerWidth ? ["off screen"] : []);
      });
      expect(clash).toEqual([]);
      await shot(bob.page, "conversation-phone-request");
    } finally {
      await bob.page.setViewportSize({ width: 1180, height: 760 });
    }
  });

  it("on a touch screen shows each message's ⋯ without hover, and a long press opens its menu", async () => {
    await bob.page.mouse.move(0, 0);
    const touch = await bob.context.newCDPSession(bob.page);
    await touch.send("Emulation.setTouchEmulationEnabled", { enabled: true, maxTouchPoints: 1 });
    await bob.page.setViewportSize({ width: 390, height: 844 });
    try {
      await openTab(bob.page, "Chats");
      const chat = bob.page.getByTestId("chat-row").filter({ hasText: alice.address });
      if (await chat.isVisible()) await chat.click();
      const row = message(bob.page, "Line five");
      await row.waitFor();
      expect(await row.getByLabel("Message actions").first().evaluate((dots) => getComputedStyle(dots).opacity)).toBe("1");
      const words = (await row.locator(".text").boundingBox())!;
      const finger = { x: Math.round(words.x + words.width / 2), y: Math.round(words.y + words.height / 2) };
      await touch.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: [finger] });
      await bob.page.waitForTimeout(800);
      await touch.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
      const actions = row.getByRole("group", { name: "Message actions" });
      await actions.waitFor();
      expect(await menuWhole(actions)).toEqual({ inside: true, missed: [] });
      // Lifting the finger chose nothing in it (Copy would say "Copied").
      await bob.page.waitForTimeout(300);
      expect(await actions.getByRole("button", { name: "Copy", exact: true }).count()).toBe(1);
      await shot(bob.page, "conversation-long-press");
      await bob.page.keyboard.press("Escape");
      await expect.poll(() => actions.isVisible()).toBe(false);
    } finally {
      await touch.send("Emulation.setTouchEmulationEnabled", { enabled: false });
      await bob.page.setViewportSize({ width: 1180, height: 760 });
    }
  });
});
