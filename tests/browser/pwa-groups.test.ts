import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { befriend, hideWithNotifications, openTab, type Person, type PwaWorld, register, showAgain, shot, shownNotifications, startWorld, statusLineWhole } from "./pwa-harness.js";

// One story on two domains: Alice (im.alice.test) makes a group with Bob and Carol (im.bob.test),
// everyone talks, Alice renames it and removes Carol, and Bob leaves.
describe("group chats in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  let carol: Person;

  beforeAll(async () => {
    world = await startWorld({ portBase: 8931, inspectorBase: 9531 });
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
  const notice = (page: Page, text: string) => page.getByTestId("notice").filter({ hasText: text });
  const title = (page: Page) => page.locator("#conv-title");
  const groupInfo = async (page: Page) => {
    await page.getByRole("button", { name: "Group info" }).click();
    const dialog = page.getByTestId("group-dialog");
    await dialog.waitFor();
    return dialog;
  };
  const openGroup = async (person: Person, name: string) => {
    await openTab(person.page, "Chats");
    const row = person.page.getByTestId("chat-row").filter({ hasText: name });
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    await expect.poll(() => title(person.page).textContent(), { timeout: 30_000 }).toBe(name);
  };

  it("makes Bob and Carol on the other domain Alice's friends", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    carol = await register(world, world.bob, "im.bob.test", "carol");
    for (const friend of [bob, carol]) await befriend(alice, friend);
  });

  it("creates the group “Weekend” from Chats → New group, named and with friends ticked", async () => {
    await openTab(alice.page, "Chats");
    await alice.page.getByRole("button", { name: "New group" }).click();
    const dialog = alice.page.getByTestId("new-group-dialog");
    await dialog.getByRole("checkbox", { name: bob.address }).waitFor();
    // Nothing happens without a name and two friends: the dialog says what is missing.
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.getByText("Give the group a name.").waitFor();
    await dialog.getByText("Choose at least two friends.", { exact: false }).waitFor();
    await dialog.getByLabel("Group name").fill("Weekend");
    await dialog.getByRole("checkbox", { name: bob.address }).check();
    await dialog.getByRole("checkbox", { name: carol.address }).check();
    await dialog.getByText("2 selected").waitFor();
    await shot(alice.page, "group-new");
    await dialog.getByRole("button", { name: "Create" }).click();
    await dialog.waitFor({ state: "detached", timeout: 30_000 });

    await expect.poll(() => title(alice.page).textContent()).toBe("Weekend");
    await alice.page.locator(".conversation").getByTestId("member-count").getByText("3 members").waitFor();
    const row = alice.page.getByTestId("chat-row").filter({ hasText: "Weekend" });
    expect(await row.getByTestId("member-count").textContent()).toBe("3 members");
    await notice(alice.page, "You created the group").waitFor();
  });

  it("carries everyone's messages to all three, each with its sender's name", async () => {
    await say(alice.page, "Hi both! Saturday?");
    await message(alice.page, "Hi both! Saturday?").locator("[data-status=sent], [data-status=delivered]").waitFor({ timeout: 30_000 });

    for (const person of [bob, carol]) {
      await openGroup(person, "Weekend");
      await person.page.locator(".conversation").getByTestId("member-count").getByText("3 members").waitFor();
      const hi = message(person.page, "Hi both! Saturday?");
      await hi.waitFor({ timeout: 30_000 });
      expect(await hi.getByTestId("sender").textContent()).toBe("alice");
      await notice(person.page, "alice added you").or(notice(person.page, "alice created the group")).first().waitFor();
    }

    // Carol has the app in the background: the notification says who wrote, in which group.
    await hideWithNotifications(carol, world.bob);
    try {
      await say(bob.page, "Saturday works");
      await expect.poll(() => shownNotifications(carol), { timeout: 30_000 }).toContain("bob in Weekend: Saturday works");
    } finally {
      await showAgain(carol);
    }
    await say(bob.page, "I'll bring snacks");
    // Carol answers once she read it: written at once, her message could reach the hub first, and
    // then bob's would be the chat's last line, named again after hers.
    await message(carol.page, "I'll bring snacks").waitFor({ timeout: 30_000 });
    await say(carol.page, "Count me in");
    for (const person of [alice, bob, carol]) {
      await message(person.page, "Count me in").waitFor({ timeout: 30_000 });
      await message(person.page, "I'll bring snacks").waitFor({ timeout: 30_000 });
    }
    // Bob's two messages are one run, named once; Carol's is named as hers.
    expect(await message(alice.page, "Saturday works").getByTestId("sender").textContent()).toBe("bob");
    expect(await message(alice.page, "I'll bring snacks").getByTestId("sender").count()).toBe(0);
    expect(await message(alice.page, "Count me in").getByTestId("sender").textContent()).toBe("carol");
    expect(await message(carol.page, "Saturday works").getByTestId("sender").textContent()).toBe("bob");
    // A sender never sees their own name over their messages.
    expect(await message(bob.page, "Saturday works").getByTestId("sender").count()).toBe(0);

    const row = alice.page.getByTestId("chat-row").filter({ hasText: "Weekend" });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("carol: Count me in");
    await shot(alice.page, "group-chat");
    await shot(bob.page, "group-chat-bob");
  });

  it("renames the group for everyone from the group info dialog", async () => {
    // Bob has Group info open while Alice renames: his name field follows.
    const bobsDialog = await groupInfo(bob.page);
    const dialog = await groupInfo(alice.page);
    const members = dialog.getByTestId("group-member");
    await expect.poll(() => members.count()).toBe(3);
    expect(await members.first().textContent()).toContain("You");
    await dialog.getByLabel("Group name").fill("Weekend trip");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await expect.poll(() => title(alice.page).textContent(), { timeout: 30_000 }).toBe("Weekend trip");
    await notice(alice.page, "You renamed the group to “Weekend trip”").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => bobsDialog.getByLabel("Group name").inputValue(), { timeout: 30_000 }).toBe("Weekend trip");
    await bobsDialog.getByRole("button", { name: "Close" }).click();
    await bobsDialog.waitFor({ state: "detached" });

    for (const person of [bob, carol]) {
      await expect.poll(() => title(person.page).textContent(), { timeout: 30_000 }).toBe("Weekend trip");
      await notice(person.page, "alice renamed the group to “Weekend trip”").waitFor();
      await person.page.getByTestId("chat-row").filter({ hasText: "Weekend trip" }).waitFor();
    }
  });

  it("removes Carol after asking; she is told and can no longer write", async () => {
    const dialog = await groupInfo(alice.page);
    await dialog.getByRole("button", { name: "Remove carol" }).click();
    const confirm = dialog.getByTestId("confirm");
    await confirm.getByText("Remove carol from Weekend trip?").waitFor();
    await shot(alice.page, "group-remove-confirm");
    await confirm.getByRole("button", { name: "Remove" }).click();
    await notice(alice.page, "You removed carol").waitFor({ timeout: 30_000 });
    await expect.poll(() => dialog.getByTestId("group-member").count()).toBe(2);
    await alice.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await alice.page.locator(".conversation").getByTestId("member-count").getByText("2 members").waitFor();

    await notice(bob.page, "alice removed carol").waitFor({ timeout: 30_000 });
    const ended = carol.page.getByTestId("group-ended");
    await ended.waitFor({ timeout: 30_000 });
    expect(await ended.textContent()).toBe("alice removed you from this group. You can still read it, but no longer send to it.");
    await notice(carol.page, "alice removed you").waitFor();
    expect(await carol.page.getByLabel("Message", { exact: true }).count()).toBe(0);
    // What she read before stays.
    await message(carol.page, "Hi both! Saturday?").waitFor();
    await shot(carol.page, "group-removed");

    await say(alice.page, "Just us now");
    await message(bob.page, "Just us now").waitFor({ timeout: 30_000 });
    expect(await message(carol.page, "Just us now").count()).toBe(0);
  });

  it("adds Carol back from Add members; she can write again", async () => {
    const dialog = await groupInfo(alice.page);
    await dialog.getByRole("button", { name: "Add members" }).click();
    await dialog.getByRole("checkbox", { name: carol.address }).check();
    // Bob is in the group already, so only Carol is offered.
    expect(await dialog.getByRole("checkbox").count()).toBe(1);
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => dialog.getByTestId("group-member").count(), { timeout: 30_000 }).toBe(3);
    await dialog.getByRole("button", { name: "Close" }).click();
    await notice(alice.page, "You added carol").waitFor();

    await notice(bob.page, "alice added carol").waitFor({ timeout: 30_000 });
    await notice(carol.page, "alice added you").last().waitFor({ timeout: 30_000 });
    await carol.page.getByTestId("group-ended").waitFor({ state: "detached" });
    await say(carol.page, "Back again");
    await message(alice.page, "Back again").waitFor({ timeout: 30_000 });
    await message(bob.page, "Back again").waitFor({ timeout: 30_000 });
  });

  it("lets Bob leave after asking; Alice sees that he left", async () => {
    const dialog = await groupInfo(bob.page);
    await dialog.getByRole("button", { name: "Leave group" }).click();
    const confirm = dialog.getByTestId("confirm");
    await confirm.getByText("Leave Weekend trip? You will stop getting its messages.").waitFor();
    // The question takes the focus, so Enter answers it from the keyboard.
    await expect.poll(() => bob.page.evaluate(() => document.activeElement?.closest("[data-testid=confirm]") !== null && document.activeElement?.textContent)).toBe("Leave group");
    await bob.page.keyboard.press("Enter");
    await dialog.waitFor({ state: "detached", timeout: 30_000 });
    const ended = bob.page.getByTestId("group-ended");
    await ended.waitFor();
    expect(await ended.textContent()).toBe("You left this group. You can still read it, but no longer send to it.");
    expect(await bob.page.getByLabel("Message", { exact: true }).count()).toBe(0);
    await notice(bob.page, "You left").waitFor();

    await notice(alice.page, "bob left").waitFor({ timeout: 30_000 });
    await notice(carol.page, "bob left").waitFor({ timeout: 30_000 });
    await alice.page.locator(".conversation").getByTestId("member-count").getByText("2 members").waitFor({ timeout: 30_000 });
    await shot(alice.page, "group-after");
    await shot(bob.page, "group-left");
  });

  it("lists a named friend by that name in New group, the address under it", async () => {
    // Carol set no name: her Settings avatar has her address's first letter.
    await openTab(carol.page, "Settings");
    expect(await carol.page.getByTestId("profile-form").getByTestId("avatar").textContent()).toBe("C");

    // A nickname Alice gives Carol names her as a display name would.
    await openTab(alice.page, "Friends");
    const carolsPerson = alice.page.locator(`[data-testid=person][data-address="${carol.address}"]`);
    await carolsPerson.getByRole("button", { name: "Nickname" }).click();
    await carolsPerson.getByLabel(`A name for ${carol.address} that only you see`, { exact: false }).fill("Carol Jones");
    await shot(alice.page, "friend-nickname-form");
    await carolsPerson.getByRole("button", { name: "Save" }).click();
    await carolsPerson.getByTestId("person-name").getByText("Carol Jones").waitFor();
    await openTab(alice.page, "Chats");
    await alice.page.getByRole("button", { name: "New group" }).click();
    const dialog = alice.page.getByTestId("new-group-dialog");
    const carolsRow = dialog.locator(".pick-row").filter({ has: alice.page.getByRole("checkbox", { name: carol.address }) });
    await expect.poll(() => carolsRow.locator(".pick-name > span").allTextContents()).toEqual(["Carol Jones", carol.address]);
    await shot(alice.page, "group-new-names");
    await alice.page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await openGroup(alice, "Weekend trip");
  });

  it("fits a phone: the group's header keeps its name, member count and Group info", async () => {
    await alice.page.setViewportSize({ width: 390, height: 800 });
    await alice.page.getByRole("button", { name: "Group info" }).waitFor();
    expect(await alice.page.getByRole("button", { name: "Group info" }).isVisible()).toBe(true);
    expect(await title(alice.page).isVisible()).toBe(true);
    expect(await statusLineWhole(alice.page)).toBe(true);
    await shot(alice.page, "group-phone");
    await groupInfo(alice.page);
    await shot(alice.page, "group-info-phone");
  });
});
