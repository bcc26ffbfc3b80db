import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Request, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealedSize } from "../../shared/attachment-crypto.js";
import { BLOB_PART_BYTES } from "../../shared/wire/blobs.js";
import { befriend, offlineBanner, openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// A file being sent from the PWA is kept sealed in IndexedDB with its upload (PROTOCOL §15.4): a
// reload part way resumes from the parts Alice's server holds, with its progress bar and cancel
// as before the reload; a reload while the file is still being sealed seals it again; a file sent
// offline uploads once the browser is back online, even across a reload meanwhile. Bob gets each whole.
describe("uploads in the PWA survive a reload and going offline", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;
  const MIB = 1_048_576;
  const pattern = (size: number, seed: number) => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) bytes.writeUInt32LE(((i + seed) * 2654435761) >>> 0, i);
    return bytes;
  };
  const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
  const PART = /\/emsg\/v1\/blobs\/uploads\/[^/]+\/parts\/(\d+)$/;

  beforeAll(async () => {
    world = await startWorld({ portBase: 19122, inspectorBase: 20122 });
  }, 240_000);

  afterAll(async () => {
    await world?.close();
  });

  const card = (p: Person, name: string) => p.page.getByTestId("attachment").filter({ hasText: name });
  /** The upload's bar under the chat, as a fresh upload shows it. */
  const bar = (p: Person, name: string) => p.page.locator('[data-testid="transfer"][data-direction="up"]').filter({ hasText: name });
  /** After a reload: Alice's chat with Bob, reached as she first opened it (a chat's row waits for its first message to be sent). */
  const openChat = async () => {
    await openTab(alice.page, "Friends");
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
  };
  const percent = async (p: Person, name: string) => Number(await bar(p, name).locator("progress").getAttribute("value"));
  const sending = (p: Person) => p.page.locator('[data-testid="message"] [data-testid="tick"][data-status="sending"], [data-testid="message"] [data-testid="tick"][data-status="queued"]');

  /** Bob saves the file from his chat with Alice; its bytes. */
  async function bobSaves(name: string): Promise<Buffer> {
    await card(bob, name).getByTestId("file-download").waitFor({ timeout: 90_000 });
    const [download] = await Promise.all([bob.page.waitForEvent("download", { timeout: 180_000 }), card(bob, name).getByTestId("file-download").click()]);
    expect(download.suggestedFilename()).toBe(name);
    return readFile((await download.path())!);
  }

  it("makes Alice and Bob friends and opens Alice's chat with Bob", async () => {
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
    await befriend(alice, bob);
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
  }, 120_000);

  it("a 26 MiB upload reloaded after two parts goes on from where it stopped, and Bob gets the file whole", async () => {
    const big = pattern(26 * MIB, 1);
    // Each part Alice's server took (answered 200), as the page's requests pass through here.
    const accepted = new Map<number, number>();
    const creates: string[] = [];
    const going = new Set<Request>();
    let phase: "sending" | "stalled" | "reloaded" = "sending";
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // After the reload, parts wait until the resumed upload's bar was seen where it starts.
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    alice.context.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/emsg/v1/blobs/uploads")) creates.push(r.url());
    });
    alice.context.on("response", (r) => {
      const part = PART.exec(r.url());
      if (!part || r.status() !== 200) return;
      accepted.set(Number(part[1]), (accepted.get(Number(part[1])) ?? 0) + 1);
      // After two parts the link stalls: the page is reloaded with the rest not sent.
      if (phase === "sending" && accepted.size >= 2) phase = "stalled";
    });
    const settled = (r: Request) => void going.delete(r);
    alice.context.on("requestfinished", settled);
    alice.context.on("requestfailed", settled);
    await alice.context.route(PART, async (route) => {
      if (phase === "stalled") {
        await held;
        await route.abort().catch(() => undefined);
        return;
      }
      if (phase === "reloaded") await resumed;
      going.add(route.request());
      await route.continue();
    });

    await alice.page.getByTestId("file-input").setInputFiles({ name: "survey.bin", mimeType: "application/octet-stream", buffer: big });
    await expect.poll(() => accepted.size, { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
    // Parts already on their way when the link stalled finish first (the server may take a third).
    await expect.poll(() => going.size, { timeout: 60_000 }).toBe(0);
    const before = new Map(accepted);
    expect(before.size).toBeLessThan(6);
    await shot(alice.page, "upload-before-reload");

    phase = "reloaded";
    await alice.page.reload();
    release();
    await alice.page.getByRole("navigation").waitFor();
    // The resumed upload shows its bar in the chat, starting from the parts the server held.
    await openChat();
    await bar(alice, "survey.bin").waitFor({ timeout: 60_000 });
    const start = Math.floor((100 * before.size * BLOB_PART_BYTES) / sealedSize(big.length));
    await expect.poll(() => percent(alice, "survey.bin"), { timeout: 60_000 }).toBe(start);
    await shot(alice.page, "upload-resumed-bar");
    resume();
    await expect.poll(() => percent(alice, "survey.bin"), { timeout: 120_000 }).toBeGreaterThan(start);
    await expect.poll(() => accepted.size, { timeout: 180_000 }).toBe(6);
    await bar(alice, "survey.bin").waitFor({ state: "detached", timeout: 60_000 });
    // Every part reached the server once: none of those it held before the reload was sent again.
    expect([...accepted.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(creates).toHaveLength(1);
    await card(alice, "survey.bin").waitFor({ timeout: 60_000 });
    await expect.poll(() => sending(alice).count(), { timeout: 60_000 }).toBe(0);
    await alice.context.unroute(PART);

    await openTab(bob.page, "Chats");
    await bob.page.getByTestId("chat-row").filter({ hasText: "alice#im.alice.test" }).click({ timeout: 60_000 });
    const saved = await bobSaves("survey.bin");
    expect(saved.length).toBe(big.length);
    expect(sha(saved)).toBe(sha(big));
  }, 420_000);

  it("cancel on a resumed upload's bar stops it: the bar goes, the message is not sent, and no part follows", async () => {
    const file = pattern(12 * MIB, 3);
    const message = alice.page.getByTestId("message").filter({ hasText: "drop.bin" });
    let phase: "sending" | "stalled" | "reloaded" | "cancelled" = "sending";
    const stalled: Route[] = [];
    let partsAfterCancel = 0;
    const deletes: string[] = [];
    const onRequest = (r: Request) => {
      if (r.method() === "DELETE" && /\/emsg\/v1\/blobs\/uploads\/[^/]+$/.test(r.url())) deletes.push(r.url());
    };
    alice.context.on("request", onRequest);
    await alice.context.route(PART, async (route) => {
      if (phase === "cancelled") partsAfterCancel++;
      if (phase === "sending") {
        phase = "stalled";
        return route.continue();
      }
      // The link stalls from the second part on, and after the reload too.
      stalled.push(route);
    });
    await alice.page.getByTestId("file-input").setInputFiles({ name: "drop.bin", mimeType: "application/octet-stream", buffer: file });
    await expect.poll(() => stalled.length, { timeout: 120_000 }).toBeGreaterThan(0);
    phase = "reloaded";
    await alice.page.reload();
    for (const route of stalled.splice(0)) await route.abort().catch(() => undefined);
    await alice.page.getByRole("navigation").waitFor();
    await openChat();
    await bar(alice, "drop.bin").waitFor({ timeout: 60_000 });
    await expect.poll(() => stalled.length, { timeout: 60_000 }).toBeGreaterThan(0);

    await bar(alice, "drop.bin").getByRole("button", { name: "Cancel" }).click();
    phase = "cancelled";
    // The part on its way when Cancel was clicked fails; nothing after it is sent.
    for (const route of stalled.splice(0)) await route.abort().catch(() => undefined);
    await bar(alice, "drop.bin").waitFor({ state: "detached", timeout: 60_000 });
    await message.locator('[data-testid="tick"][data-status="failed"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => deletes.length, { timeout: 30_000 }).toBe(1);
    await alice.page.waitForTimeout(2000);
    expect(partsAfterCancel).toBe(0);
    await shot(alice.page, "upload-resumed-cancelled");
    alice.context.off("request", onRequest);
    await alice.context.unroute(PART);
  }, 300_000);

  it("a reload while the file is being sealed seals it again from the kept file, and Bob gets it whole", async () => {
    const file = pattern(12 * MIB, 5);
    let creates = 0;
    const onRequest = (r: Request) => {
      if (r.method() === "POST" && r.url().endsWith("/emsg/v1/blobs/uploads")) creates++;
    };
    alice.context.on("request", onRequest);
    await alice.page.getByTestId("file-input").setInputFiles({ name: "seal.bin", mimeType: "application/octet-stream", buffer: file });
    // A slower processor stretches the sealing (under a second here) so the reload lands inside it.
    const cdp = await alice.context.newCDPSession(alice.page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 8 });
    await card(alice, "seal.bin").waitFor({ timeout: 30_000 });
    // Sealing ends before the upload is started on the server: none was, so the reload is mid-seal.
    const createdBeforeReload = creates;
    await alice.page.reload();
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    expect(createdBeforeReload).toBe(0);
    await alice.page.getByRole("navigation").waitFor();
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    const message = alice.page.getByTestId("message").filter({ hasText: "seal.bin" });
    await message.waitFor({ timeout: 30_000 });
    await expect.poll(() => message.locator('[data-testid="tick"]').getAttribute("data-status"), { timeout: 120_000 }).not.toMatch(/sending|queued/);
    expect(await message.locator('[data-testid="tick"]').getAttribute("data-status")).not.toBe("failed");
    expect(creates).toBe(1);
    alice.context.off("request", onRequest);

    const saved = await bobSaves("seal.bin");
    expect(sha(saved)).toBe(sha(file));
  }, 300_000);

  it("a file sent offline waits, through a reload, and uploads once the browser is back online", async () => {
    const file = pattern(3 * MIB, 7);
    await alice.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await alice.context.setOffline(true);
    // Sealed into IndexedDB, the upload waits for a server (a reload before that loses the file).
    const waiting = alice.page.waitForEvent("console", { predicate: (m) => m.text().includes("an upload waits for the next connect"), timeout: 60_000 });
    await alice.page.getByTestId("file-input").setInputFiles({ name: "train.bin", mimeType: "application/octet-stream", buffer: file });
    await card(alice, "train.bin").waitFor({ timeout: 30_000 });
    await waiting;
    await alice.page.reload();
    await (await offlineBanner(alice.page)).waitFor();
    await alice.page.getByTestId("chat-row").filter({ hasText: "bob#im.bob.test" }).click();
    await card(alice, "train.bin").waitFor({ timeout: 30_000 });
    expect(await sending(alice).count()).toBe(1);
    await alice.context.setOffline(false);
    await expect.poll(() => sending(alice).count(), { timeout: 120_000 }).toBe(0);
    await expect(alice.page.getByTestId("file-error").count()).resolves.toBe(0);

    const saved = await bobSaves("train.bin");
    expect(sha(saved)).toBe(sha(file));
  }, 300_000);
});
