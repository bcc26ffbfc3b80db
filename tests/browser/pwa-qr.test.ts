import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeCameraArgs, photographQr, writeQrY4m, writeY4m } from "./fake-camera.js";
import { openTab, type Person, type PwaWorld, register, shot, startWorld } from "./pwa-harness.js";

// Ports of this file's own two domains.
const PORT_BASE = 8911;
const INSPECTOR_BASE = 9511;
const QR_SIDE = 440;

describe("adding and verifying a friend by scanning their code", () => {
  const dir = mkdtempSync(join(tmpdir(), "emsg-camera-"));
  const camera = join(dir, "camera.y4m");
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    // Chromium opens the file when a page starts the camera, so each scan can show another code.
    writeQrY4m(camera, "nothing yet");
    world = await startWorld({ portBase: PORT_BASE, inspectorBase: INSPECTOR_BASE, browserArgs: fakeCameraArgs(camera) });
    bob = await register(world, world.bob, "im.bob.test", "bob");
    alice = await register(world, world.alice, "im.alice.test", "alice");
  });

  afterAll(async () => {
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows your own code to be scanned, next to your address", async () => {
    await openTab(bob.page, "Friends");
    await expect.poll(() => bob.page.getByTestId("my-qr").locator("svg").count()).toBe(1);
    await shot(bob.page, "friends-my-code");
  });

  it("adds bob by holding the camera to the code on his screen", async () => {
    writeY4m(camera, await photographQr(bob.page.getByTestId("my-qr"), QR_SIDE), QR_SIDE);
    await openTab(alice.page, "Friends");
    await alice.page.getByRole("button", { name: "Scan a code" }).click();
    const field = alice.page.getByLabel("Address or emsg: link");
    await expect.poll(() => field.inputValue(), { timeout: 20_000 }).toBe("bob#im.bob.test");
    await expect.poll(() => alice.page.getByRole("group", { name: "Scan a QR code" }).count()).toBe(0);
    await alice.page.getByRole("button", { name: "Send request" }).click();
    await expect.poll(() => alice.page.getByTestId("outgoing").innerText()).toContain("bob#im.bob.test");

    await bob.page.reload();
    await openTab(bob.page, "Friends");
    await bob.page.getByTestId("incoming").getByRole("button", { name: "Accept" }).click();
    await expect.poll(() => alice.page.getByTestId("friend-list").innerText(), { timeout: 30_000 }).toContain("bob#im.bob.test");
  });

  it("marks bob verified when his code carries the key alice pinned", async () => {
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Safety number" }).click();
    const dialog = alice.page.getByTestId("safety-dialog");
    await dialog.getByRole("button", { name: "Scan their code" }).click();
    await expect.poll(() => dialog.getByRole("status").innerText(), { timeout: 20_000 }).toContain("matches the key you have for bob#im.bob.test");
    await expect.poll(() => dialog.getByRole("button", { name: "Clear verification" }).count()).toBe(1);
    await shot(alice.page, "safety-scan-match");
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect.poll(() => alice.page.getByTestId("friend-list").innerText()).toContain("Verified");
  });

  it("warns, and does not verify, when the code shows bob's address with another key", async () => {
    await alice.page.getByTestId("friend-list").getByRole("button", { name: "Safety number" }).click();
    const dialog = alice.page.getByTestId("safety-dialog");
    await dialog.getByRole("button", { name: "Clear verification" }).click();
    writeQrY4m(camera, `emsg-verify:1:bob#im.bob.test:${"A".repeat(42)}w`);
    await dialog.getByRole("button", { name: "Scan their code" }).click();
    await expect.poll(() => dialog.getByRole("alert").innerText(), { timeout: 20_000 }).toContain("does not match the key you have for bob#im.bob.test");
    await expect.poll(() => dialog.getByRole("button", { name: "Mark as verified" }).count()).toBe(1);
    await shot(alice.page, "safety-scan-mismatch");
    await dialog.getByRole("button", { name: "Close" }).click();
  });

  it("opens with the friend form filled in from an invite or web+emsg: link", async () => {
    const page = await alice.context.newPage();
    await page.goto(`${world.alice}/?add=${encodeURIComponent("web+emsg:carol%23im.bob.test")}`);
    await expect.poll(() => page.getByLabel("Address or emsg: link").inputValue(), { timeout: 20_000 }).toBe("carol#im.bob.test");
    expect(new URL(page.url()).search).toBe("");
    await page.close();
  });
});
