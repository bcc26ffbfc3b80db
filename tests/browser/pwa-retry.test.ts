import { readFile } from "node:fs/promises";
import type { Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { friendsWhoChatted, openTab, type Person, type PwaWorld, shot, startWorld } from "./pwa-harness.js";

// Alice's server refuses her messages for good for a while (as a hub refuses a non-member,
// `forbidden`): each shows why it was not delivered, and she sends it again with Retry once the
// refusal is over, or deletes it.
describe("a message that failed to send, in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  const SUBMIT = "**/emsg/v1/conversations/*/*/messages";
  const refuse = (route: Route) =>
    route.request().method() === "POST"
      ? route.fulfill({ status: 403, contentType: "application/json", body: JSON.stringify({ error: "forbidden", message: "Not a member." }) })
      : route.continue();
  const composer = () => alice.page.getByLabel("Message", { exact: true });
  const mine = (text: string) => alice.page.getByTestId("message").filter({ hasText: text });
  const write = async (text: string) => {
    await composer().fill(text);
    await composer().press("Enter");
  };

  beforeAll(async () => {
    world = await startWorld({ portBase: 19520, inspectorBase: 20520 });
    ({ alice, bob } = await friendsWhoChatted(world));
    // No session to the hub (PROTOCOL §10): Alice's messages go by her server's HTTP API, refused below.
    await alice.context.route("**/emsg/v1/sessions/ticket", (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: "unavailable", message: "busy" }) }));
    await alice.page.reload();
    await alice.page.getByTestId("chat-row").filter({ hasText: bob.address }).click();
    await mine("Hello from the laptop").waitFor();
    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: alice.address }).click({ timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await world?.close();
  });

  it("says why it was not delivered, and Retry sends it: Bob gets it once", async () => {
    await alice.context.route(SUBMIT, refuse);
    await write("Are you there?");
    const message = mine("Are you there?");
    await message.locator('[data-testid="tick"][data-status="failed"]').waitFor({ timeout: 30_000 });
    const failure = message.getByTestId("send-failure");
    await failure.getByText("Not delivered: That is not allowed.").waitFor();
    // The chat list says so too, before the preview.
    const marked = alice.page.getByTestId("chat-row").filter({ hasText: bob.address }).getByTestId("chat-failed");
    await marked.waitFor();
    expect(await marked.getAttribute("title")).toBe("Not delivered");
    await shot(alice.page, "retry-failed");
    await alice.context.unroute(SUBMIT);

    await failure.getByRole("button", { name: "Retry" }).click();
    await message.locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
    expect(await message.getByTestId("send-failure").count()).toBe(0);
    expect(await marked.count()).toBe(0);
    const got = bob.page.getByTestId("message").filter({ hasText: "Are you there?" });
    await got.waitFor({ timeout: 30_000 });
    await bob.page.waitForTimeout(1000);
    expect(await got.count()).toBe(1);
  }, 120_000);

  it("sends it again when its red ! is tapped, as Retry does", async () => {
    await alice.context.route(SUBMIT, refuse);
    await write("Tap the mark");
    const message = mine("Tap the mark");
    await message.getByTestId("send-failure").waitFor({ timeout: 30_000 });
    await alice.context.unroute(SUBMIT);
    const mark = message.getByRole("button", { name: "Not delivered: retry" });
    expect(await mark.textContent()).toBe("!");
    await mark.click();
    await message.locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
    expect(await message.getByTestId("send-failure").count()).toBe(0);
    await bob.page.getByTestId("message").filter({ hasText: "Tap the mark" }).waitFor({ timeout: 30_000 });
  }, 120_000);

  it("offers Retry and Delete in the failed message's menu; Delete takes it off this device for good", async () => {
    await alice.context.route(SUBMIT, refuse);
    await write("Wrong chat, sorry");
    const message = mine("Wrong chat, sorry");
    await message.getByTestId("send-failure").waitFor({ timeout: 30_000 });
    await alice.context.unroute(SUBMIT);
    await message.getByLabel("Message actions").first().click();
    const menu = message.getByRole("group", { name: "Message actions" });
    await menu.getByRole("button", { name: "Retry" }).waitFor();
    expect(await menu.getByRole("button", { name: "Edit" }).count()).toBe(0);
    await menu.getByRole("button", { name: "Delete", exact: true }).click();
    await message.waitFor({ state: "detached" });
    await alice.page.reload();
    await alice.page.getByTestId("chat-row").filter({ hasText: bob.address }).click();
    await mine("Are you there?").waitFor();
    expect(await mine("Wrong chat, sorry").count()).toBe(0);
    expect(await bob.page.getByTestId("message").filter({ hasText: "Wrong chat, sorry" }).count()).toBe(0);
  }, 120_000);

  it("uploads a cancelled file again on Retry, and after a reload too, from what IndexedDB kept; Delete takes a kept one away", async () => {
    const PART = /\/emsg\/v1\/blobs\/uploads\/[^/]+\/parts\/\d+$/;
    const held: Route[] = [];
    const bar = (name: string) => alice.page.locator('[data-testid="transfer"][data-direction="up"]').filter({ hasText: name });
    /** The keys of what the PWA keeps of files being sent, or failed (its `uploads` store). */
    const keptUploads = () =>
      alice.page.evaluate(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const open = indexedDB.open("emsg");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const keys = open.result.transaction("uploads").objectStore("uploads").getAllKeys();
              keys.onsuccess = () => {
                open.result.close();
                resolve(keys.result.map(String));
              };
              keys.onerror = () => reject(keys.error);
            };
          }),
      );
    /** Sends a file whose parts never reach the server, and cancels its upload. */
    const cancelled = async (name: string) => {
      await alice.context.route(PART, (route) => void held.push(route));
      await alice.page.getByTestId("file-input").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(`the words of ${name}`) });
      await expect.poll(() => held.length, { timeout: 60_000 }).toBeGreaterThan(0);
      await bar(name).getByRole("button", { name: "Cancel" }).click();
      for (const route of held.splice(0)) await route.abort().catch(() => undefined);
      await alice.context.unroute(PART);
      const failure = mine(name).getByTestId("send-failure");
      await failure.getByText("Not delivered: The upload was cancelled.").waitFor({ timeout: 30_000 });
      return failure;
    };

    const failure = await cancelled("plan.txt");
    await failure.getByRole("button", { name: "Retry" }).click();
    await mine("plan.txt").locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 60_000 });
    await bob.page.getByTestId("attachment").filter({ hasText: "plan.txt" }).waitFor({ timeout: 60_000 });

    // The page that held the file is gone: the sealed parts IndexedDB kept are uploaded again.
    await cancelled("draft.txt");
    await alice.page.reload();
    await alice.page.getByTestId("chat-row").filter({ hasText: bob.address }).click();
    const kept = mine("draft.txt").getByTestId("send-failure");
    await kept.getByText("Not delivered: The upload was cancelled.").waitFor({ timeout: 30_000 });
    // No server holds it yet: nothing to download.
    expect(await mine("draft.txt").getByTestId("file-download").count()).toBe(0);
    await shot(alice.page, "retry-file-kept");
    await kept.getByRole("button", { name: "Retry" }).click();
    await mine("draft.txt").locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 60_000 });
    const got = bob.page.getByTestId("attachment").filter({ hasText: "draft.txt" });
    await got.getByTestId("file-download").waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([bob.page.waitForEvent("download", { timeout: 60_000 }), got.getByTestId("file-download").click()]);
    expect(await readFile((await download.path())!, "utf8")).toBe("the words of draft.txt");
    expect(await keptUploads()).toEqual([]);

    await cancelled("memo.txt");
    expect((await keptUploads()).length).toBeGreaterThan(0);
    await alice.page.reload();
    await alice.page.getByTestId("chat-row").filter({ hasText: bob.address }).click();
    const deleting = mine("memo.txt").getByTestId("send-failure");
    await deleting.getByRole("button", { name: "Retry" }).waitFor({ timeout: 30_000 });
    await deleting.getByRole("button", { name: "Delete" }).click();
    await mine("memo.txt").waitFor({ state: "detached" });
    // The user's file leaves the device with its message.
    await expect.poll(keptUploads, { timeout: 10_000 }).toEqual([]);
  }, 240_000);
});
