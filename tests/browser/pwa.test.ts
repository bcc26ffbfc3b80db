import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchContext } from "./failure-log.js";
import { hideWithNotifications, newestWhole, offlineBanner, openTab, register, showAgain, shot, shownNotifications, startWorld, statusLineWhole, type Person, type PwaWorld } from "./pwa-harness.js";

// One story, told in order: each step builds on what the previous one left on screen.
describe("the EMSG PWA on two federated domains", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it("lets a new person choose a name and shows their address", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await openTab(alice.page, "Friends");
    await expect.poll(() => alice.page.getByTestId("my-address").textContent()).toBe("alice#im.alice.test");
    await shot(alice.page, "friends-empty");
  });

  it("is installable: a manifest with PNG icons and a service worker controlling the page", async () => {
    const found = await alice.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const manifest = (await (await fetch("/manifest.webmanifest")).json()) as { name: string; display: string; icons: { src: string; sizes: string }[] };
      const icon = await fetch(`/${manifest.icons.find((i) => i.sizes === "512x512")!.src}`);
      const bytes = new Uint8Array(await icon.arrayBuffer());
      return { name: manifest.name, display: manifest.display, png: bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47, links: document.querySelectorAll("link[rel=manifest]").length };
    });
    expect(found).toEqual({ name: "EMSG", display: "standalone", png: true, links: 1 });
  });

  it("makes friends across domains by pasted address, with the request accepted on the other side", async () => {
    await alice.page.getByLabel("Address or emsg: link").fill("emsg:bob#im.bob.test");
    await alice.page.getByLabel("Note (optional)").fill("Hi Bob, it's Alice");
    await alice.page.getByRole("button", { name: "Send request" }).click();
    await alice.page.getByText("Request sent to bob#im.bob.test.").waitFor();

    await openTab(bob.page, "Friends");
    const request = bob.page.getByTestId("incoming").getByTestId("person");
    await request.getByText("alice#im.alice.test").waitFor({ timeout: 20_000 });
    await expect.poll(() => request.textContent()).toContain("Hi Bob, it's Alice");
    await shot(bob.page, "friend-request");
    await request.getByRole("button", { name: "Accept" }).click();
    await bob.page.getByTestId("friend-list").getByText("alice#im.alice.test").waitFor();
    await alice.page.getByTestId("friend-list").getByText("bob#im.bob.test").waitFor({ timeout: 20_000 });
  });

  it("shows the same 12-group safety number and a QR code on both sides, and marks it verified", async () => {
    const numbers: string[] = [];
    for (const [person, friend] of [[alice, "bob#im.bob.test"], [bob, "alice#im.alice.test"]] as const) {
      await person.page.getByTestId("friend-list").getByRole("button", { name: "Safety number" }).click();
      const dialog = person.page.getByTestId("safety-dialog");
      await dialog.getByText(`Safety number with ${friend}`).waitFor();
      // The dialog opens at once; its number (and the QR code with it) shows once it is worked out.
      await dialog.getByTestId("safety-number").waitFor();
      const groups = await dialog.getByTestId("safety-number").locator("span").allTextContents();
      expect(groups).toHaveLength(12);
      expect(groups.every((g) => /^\d{5}$/.test(g))).toBe(true);
      expect(await dialog.locator(".qr svg").count()).toBe(1);
      numbers.push(groups.join(" "));
      if (person === alice) await shot(alice.page, "safety-number");
      await dialog.getByRole("button", { name: "Mark as verified" }).click();
      await dialog.getByRole("button", { name: "Clear verification" }).waitFor();
      await dialog.getByRole("button", { name: "Close" }).click();
      await person.page.getByTestId("friend-list").getByText("Verified").waitFor();
    }
    expect(numbers[0]).toBe(numbers[1]);
  });

  it("chats both ways; Enter sends, Shift+Enter adds a line, and sent messages reach two ticks", async () => {
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
    const composer = alice.page.getByLabel("Message", { exact: true });
    await composer.fill("Hello Bob!");
    await composer.press("Shift+Enter");
    await composer.pressSequentially("Second line.");
    await composer.press("Enter");
    const sent = alice.page.getByTestId("message").filter({ hasText: "Hello Bob!" });
    await expect.poll(() => sent.textContent()).toContain("Second line.");
    await sent.getByTestId("tick").and(alice.page.locator("[data-status=delivered]")).waitFor({ timeout: 30_000 });

    await openTab(bob.page, "Chats");
    const row = bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" });
    await row.getByLabel("1 unread").waitFor({ timeout: 20_000 });
    // The tab's title follows the count after the row is drawn (an effect of the next frame).
    await expect.poll(() => bob.page.title()).toBe("(1) EMSG");
    expect(await row.textContent()).toContain("Hello Bob!");
    await row.click();
    await bob.page.getByTestId("message").filter({ hasText: "Hello Bob!" }).waitFor();
    const reply = bob.page.getByLabel("Message", { exact: true });
    await reply.fill("Hi Alice, got it.");
    await reply.press("Enter");
    // Alice has the chat open, so her device may have read it already: two ticks either way.
    await bob.page.getByTestId("message").filter({ hasText: "Hi Alice, got it." }).locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
    await alice.page.getByTestId("message").filter({ hasText: "Hi Alice, got it." }).waitFor({ timeout: 20_000 });
    await alice.page.getByRole("button", { name: "Verify" }).click();
    await alice.page.getByTestId("safety-dialog").getByRole("button", { name: "Clear verification" }).waitFor();
    await alice.page.keyboard.press("Escape");
    await expect.poll(() => alice.page.getByTestId("safety-dialog").count()).toBe(0);
    expect(await alice.page.getByRole("separator").first().textContent()).toBe("Today");
    await shot(alice.page, "conversation");
    await shot(bob.page, "conversation-bob");
  });

  it("sends what was typed when Enter comes before the screen caught up with the typing", async () => {
    // The last keystroke and Enter in one task: no frame is drawn between them (a fast typist on a
    // busy phone). Before, Enter read the draft of the frame before and sent nothing.
    await alice.page.getByLabel("Message", { exact: true }).evaluate((composer: HTMLTextAreaElement) => {
      composer.value = "Typed in a rush";
      composer.dispatchEvent(new InputEvent("input", { bubbles: true }));
      composer.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    });
    await alice.page.getByTestId("message").filter({ hasText: "Typed in a rush" }).waitFor({ timeout: 10_000 });
    await bob.page.getByTestId("message").filter({ hasText: "Typed in a rush" }).waitFor({ timeout: 30_000 });
    expect(await alice.page.getByLabel("Message", { exact: true }).inputValue()).toBe("");
  });

  it("keeps what it stores sealed: no word of a chat is readable in IndexedDB, only which key holds a message and the ids it is found by", async () => {
    const stored = await bob.page.evaluate(
      () =>
        new Promise<Array<[string, unknown, string[] | null]>>((done, fail) => {
          const open = indexedDB.open("emsg");
          open.onerror = () => fail(open.error);
          open.onsuccess = () => {
            const store = open.result.transaction("entries").objectStore("entries");
            const keys = store.getAllKeys();
            const values = store.getAll();
            values.onsuccess = () =>
              done(values.result.map((value, i) => [String(keys.result[i]), value instanceof Object && "iv" in value ? "sealed" : value, value instanceof Object && "ids" in value ? (value.ids as string[]) : null]));
            values.onerror = () => fail(values.error);
          };
        }),
    );
    const keys = new Set(stored.map(([key]) => key));
    // A clear value is a message's key under when it expires: a key the store holds in the clear anyway.
    for (const [key, value] of stored.filter(([, value]) => value !== "sealed")) {
      expect(key).toMatch(/^expiring\//);
      expect(keys.has(value as string)).toBe(true);
    }
    // Beside a sealed message, its ids: the content id its key ends with (and a Submit id, random, if it went under one).
    const withIds = stored.filter(([, , ids]) => ids !== null);
    expect(withIds.length).toBeGreaterThan(0);
    for (const [key, , ids] of withIds) {
      expect(key).toMatch(/^msg\//);
      expect(key.endsWith(`-${ids![0]}`)).toBe(true);
    }
    expect(JSON.stringify(stored)).not.toMatch(/Hello Bob|got it/);
  });

  it("shows a system notification for a message that arrives while the app is hidden", async () => {
    await openTab(bob.page, "Favorites");
    await hideWithNotifications(bob, world.bob);
    try {
      const composer = alice.page.getByLabel("Message", { exact: true });
      await composer.fill("Are you there?");
      await composer.press("Enter");
      await expect.poll(() => shownNotifications(bob), { timeout: 20_000 }).toContain("alice#im.alice.test: Are you there?");
    } finally {
      // Shown again even when this fails: the next steps are about what Bob sees.
      await showAgain(bob);
      await openTab(bob.page, "Chats");
    }
  });

  it("keeps a starred message in favorites", async () => {
    await bob.page.getByTestId("message").filter({ hasText: "Hello Bob!" }).getByRole("button", { name: "Star message" }).click();
    await openTab(bob.page, "Favorites");
    await bob.page.getByTestId("favorite").filter({ hasText: "Hello Bob!" }).waitFor();
    await shot(bob.page, "favorites");
    await openTab(bob.page, "Chats");
  });

  it("exports the account to a passphrase-sealed file, showing progress", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.getByLabel("Export passphrase").fill("correct horse battery");
    const download = alice.page.waitForEvent("download", { timeout: 60_000 });
    // Sealing can finish quickly, so watch for the progress bar rather than race it.
    await alice.page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { progressSeen: Set<string> }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector("[role=progressbar]");
        if (bar) seen.add(bar.getAttribute("aria-valuenow") ?? "");
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await alice.page.getByRole("button", { name: "Export", exact: true }).click();
    const file = await download;
    const progress = await alice.page.evaluate(() => [...(window as unknown as { progressSeen: Set<string> }).progressSeen].map(Number));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p >= 0 && p <= 100)).toBe(true);
    expect(file.suggestedFilename()).toMatch(/^emsg-alice_im\.alice\.test-\d{4}-\d{2}-\d{2}\.emsg$/);
    const archive = JSON.parse(readFileSync(await file.path(), "utf8")) as Record<string, unknown>;
    expect(archive.emsgExport).toBe(1);
    expect(JSON.stringify(archive)).not.toContain("Hello Bob");
    await alice.page.getByText(`Saved ${file.suggestedFilename()}.`).waitFor();
    await openTab(alice.page, "Chats");
  }, 90_000);

  it("opens offline from the app-shell cache with the local history and an offline banner", async () => {
    await alice.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await alice.context.setOffline(true);
    await alice.page.reload();
    await (await offlineBanner(alice.page)).waitFor();
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    await alice.page.getByTestId("message").filter({ hasText: "Hi Alice, got it." }).waitFor();
    await shot(alice.page, "offline");
  });

  it("queues a message written offline and delivers it after reconnecting", async () => {
    const composer = alice.page.getByLabel("Message", { exact: true });
    await composer.fill("Written on the train");
    await composer.press("Enter");
    const queued = alice.page.getByTestId("message").filter({ hasText: "Written on the train" });
    await queued.locator("[data-status=queued]").waitFor();
    await alice.page.getByTestId("banner").getByText("1 waiting to send").waitFor();
    await alice.context.setOffline(false);
    await queued.locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 40_000 });
    await bob.page.getByTestId("message").filter({ hasText: "Written on the train" }).waitFor({ timeout: 20_000 });
    // The message may go out over the chat's own session before the mailbox connection is back: the strip goes once it is.
    await expect.poll(() => alice.page.getByTestId("banner").count()).toBe(0);
  });

  it("refuses a stranger's request when set to friends only, and tells the stranger why", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.getByLabel("Refuse strangers; only friends reach me").check();
    await alice.page.getByText("Saved").waitFor();
    const carol = await register(world, world.bob, "im.bob.test", "carol");
    await openTab(carol.page, "Friends");
    await carol.page.getByLabel("Address or emsg: link").fill("alice#im.alice.test");
    await carol.page.getByRole("button", { name: "Send request" }).click();
    await carol.page.getByTestId("undelivered").getByText("alice#im.alice.test only accepts messages from friends.").waitFor({ timeout: 30_000 });
    await shot(carol.page, "stranger-refused");
    await openTab(alice.page, "Friends");
    expect(await alice.page.getByText("carol#im.bob.test").count()).toBe(0);
    await carol.context.close();
  });

  it("holds a stranger's request for review when asked to, and lets it be accepted from the inbox", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.getByLabel("Hold requests from strangers for me to review").check();
    await alice.page.getByText("Saved").waitFor();
    const erin = await register(world, world.bob, "im.bob.test", "erin");
    await openTab(erin.page, "Friends");
    await erin.page.getByLabel("Address or emsg: link").fill("alice#im.alice.test");
    await erin.page.getByLabel("Note (optional)").fill("We met at the conference");
    await erin.page.getByRole("button", { name: "Send request" }).click();
    await erin.page.getByTestId("outgoing").getByText("alice#im.alice.test").waitFor();
    const held = alice.page.getByTestId("held").getByTestId("person").filter({ hasText: "erin#im.bob.test" });
    await expect.poll(async () => {
      await openTab(alice.page, "Chats");
      await openTab(alice.page, "Friends");
      return held.count();
    }, { timeout: 30_000, interval: 1000 }).toBe(1);
    expect(await held.textContent()).toContain("We met at the conference");
    await shot(alice.page, "held-for-review");
    await held.getByRole("button", { name: "Accept" }).click();
    await erin.page.getByTestId("friend-list").getByText("alice#im.alice.test").waitFor({ timeout: 30_000 });
    await erin.context.close();
  });

  it("expires old messages after the chat's retention while favorites stay", async () => {
    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click();
    await bob.page.getByTestId("message").filter({ hasText: "Hello Bob!" }).waitFor();
    // Two days pass on Bob's device; a 1-day retention for this chat then removes every message.
    await bob.page.clock.setSystemTime(Date.now() + 2 * 86_400_000);
    await bob.page.getByLabel("Disappearing").selectOption({ label: "1 day" });
    await expect.poll(() => bob.page.getByTestId("message").count(), { timeout: 10_000 }).toBe(0);
    await openTab(bob.page, "Favorites");
    await bob.page.getByTestId("favorite").filter({ hasText: "Hello Bob!" }).waitFor();
    await shot(bob.page, "after-expiry");
  });

  it("shows the latest 50 messages and loads earlier ones when scrolled back", async () => {
    await openTab(alice.page, "Chats");
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    const composer = alice.page.getByLabel("Message", { exact: true });
    for (let i = 1; i <= 52; i++) {
      await composer.fill(`Counting ${i}`);
      await composer.press("Enter");
    }
    // Exact text: a bubble's text runs on into its time, so "Counting 5" sent at 2:51 reads "Counting 52:51".
    const last = () => alice.page.getByTestId("message").filter({ has: alice.page.getByText("Counting 52", { exact: true }) });
    await last().waitFor();
    await alice.page.reload();
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    await last().waitFor();
    // Bob's 1-day timer for the chat (set above) is one of the 50 lines: a notice.
    expect(await alice.page.locator('[data-testid="message"], [data-testid="notice"]').count()).toBe(50);
    await alice.page.getByRole("button", { name: "Show earlier messages" }).waitFor();
    // Scrolling to the top loads the earlier page by itself. As a person would, scroll up again
    // should the first gesture land while the reloaded timeline is still settling (seen once under
    // the full suite's load); the wheel gives the scroll events a person's scrolling gives.
    const earlier = alice.page.getByTestId("message").filter({ hasText: "Hello Bob!" });
    await alice.page.getByTestId("timeline").hover();
    await expect
      .poll(
        async () => {
          await alice.page.mouse.wheel(0, -20_000);
          return earlier.count();
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toBeGreaterThan(0);
    // Everything said before the 52 counted messages is back: the first message opens the list.
    expect(await alice.page.getByTestId("message").first().textContent()).toContain("Hello Bob!");
    expect(await alice.page.getByTestId("message").count()).toBeGreaterThan(52);
    expect(await alice.page.getByRole("button", { name: "Show earlier messages" }).count()).toBe(0);
  }, 90_000);

  it("switches to Simplified Chinese and keeps the choice after a reload", async () => {
    await openTab(alice.page, "Settings");
    await alice.page.getByLabel("Language").selectOption("zh-CN");
    await alice.page.getByRole("navigation").getByRole("button", { name: "聊天" }).waitFor();
    await shot(alice.page, "settings-zh");
    await alice.page.reload();
    await alice.page.getByRole("navigation").getByRole("button", { name: "设置" }).click();
    await alice.page.getByLabel("语言").selectOption("en");
    await alice.page.getByRole("navigation").getByRole("button", { name: "Chats" }).waitFor();
  });

  it("follows the system's dark theme and fits a phone, where list and chat take turns", async () => {
    await alice.page.emulateMedia({ colorScheme: "dark" });
    await openTab(alice.page, "Chats");
    await alice.page.getByTestId("chat-row").first().click();
    const background = await alice.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(15, 20, 20)");
    await shot(alice.page, "dark");
    await alice.page.setViewportSize({ width: 390, height: 760 });
    await alice.page.getByRole("button", { name: "Back" }).click();
    await alice.page.getByTestId("chat-row").first().waitFor();
    expect(await alice.page.getByTestId("timeline").isVisible()).toBe(false);
    await shot(alice.page, "phone-list");
    await alice.page.getByTestId("chat-row").first().click();
    await alice.page.getByTestId("timeline").waitFor();
    expect(await alice.page.getByTestId("chat-row").first().isVisible()).toBe(false);
    expect(await statusLineWhole(alice.page)).toBe(true);
    // The chat opens at its newest message, whole, though the header grows as the chat's details come.
    await expect.poll(() => newestWhole(alice.page), { timeout: 5_000 }).toBe(true);
    expect(await alice.page.getByTestId("message-path").isVisible()).toBe(true);
    await shot(alice.page, "phone-chat");
  });

  it("asks for the passphrase that seals the keys, refuses a wrong one, and deletes an account only with the address typed", async () => {
    const context = await world.browser.newContext({ viewport: { width: 1180, height: 760 } });
    watchContext(context, "dave");
    const page = await context.newPage();
    await page.goto(world.alice);
    await page.getByLabel("Name").fill("alice");
    await page.getByRole("button", { name: "Create my address" }).click();
    const taken = page.getByRole("alert");
    await taken.waitFor();
    expect(await taken.textContent()).not.toBe("");
    await page.getByLabel("Name").fill("dave");
    await page.getByLabel("Protect my keys on this device with a passphrase").check();
    await page.getByLabel("Passphrase", { exact: true }).fill("a long passphrase");
    await page.getByLabel("Passphrase again").fill("a long passphrase");
    await page.getByRole("button", { name: "Create my address" }).click();
    await page.getByRole("navigation").waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Unlock EMSG" }).waitFor();
    await page.getByLabel("Passphrase").fill("not it");
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByText("That passphrase does not open these keys.").waitFor();
    await shot(page, "unlock");
    await page.getByLabel("Passphrase").fill("a long passphrase");
    await page.getByRole("button", { name: "Unlock" }).click();
    await page.getByRole("navigation").waitFor();

    await openTab(page, "Settings");
    const confirm = page.getByLabel("Type dave#im.alice.test to confirm");
    const remove = page.getByRole("button", { name: "Delete my account for good" });
    await confirm.fill("dave");
    expect(await remove.isDisabled()).toBe(true);
    await confirm.fill("dave#im.alice.test");
    await remove.click();
    await page.getByText("Your account has been deleted.").waitFor({ timeout: 20_000 });
    await page.reload();
    await page.getByRole("button", { name: "Create my address" }).waitFor();
    await context.close();
  }, 90_000);
});
