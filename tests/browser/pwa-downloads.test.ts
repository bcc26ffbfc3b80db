import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { openTab, register, ROOT, type PwaWorld } from "./pwa-harness.js";
import { zipEntries } from "./zip-entries.js";

// Ports of this file alone (npm start uses 8787, the other browser tests their own).
const PORT_BASE = 8901;
const INSPECTOR_BASE = 9501;
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

type Manifest = {
  manifest_version: number;
  background: { service_worker?: string; scripts?: string[] };
  browser_specific_settings?: { gecko?: { id: string } };
  permissions: string[];
  host_permissions?: string[];
  optional_permissions?: string[];
  web_accessible_resources?: unknown;
  content_scripts: { matches: string[] }[];
  content_security_policy: { extension_pages: string };
  sidebar_action?: { default_panel: string };
  side_panel?: { default_path: string };
};

function manifestIn(zip: Buffer): Manifest {
  const manifest = zipEntries(zip).get("manifest.json");
  if (!manifest) throw new Error("no manifest.json in the package");
  return JSON.parse(manifest.toString("utf8")) as Manifest;
}

describe("the browser extension, built by npm run build and offered by every domain", () => {
  let servers: RunningDomains;
  let persistRoot: string;
  let browser: Browser;
  let world: PwaWorld;

  beforeAll(async () => {
    // What the real `npm run build` made before the browser tests (global-setup.ts): both extensions zipped, the PWA with the zips under downloads/.
    persistRoot = mkdtempSync(join(tmpdir(), "emsg-downloads-"));
    servers = await startServers(PORT_BASE, INSPECTOR_BASE, persistRoot);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    const [alice, bob] = [servers.origins["im.alice.test"]!, servers.origins["im.bob.test"]!];
    world = { browser, servers, alice, bob, close: async () => undefined };
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await servers?.stopAll();
    if (persistRoot) rmSync(persistRoot, { recursive: true, force: true });
  });

  it("serves the Chrome and Firefox packages from each domain's Worker as zips holding an MV3 manifest", async () => {
    for (const origin of Object.values(servers.origins)) {
      const chrome = await fetch(`${origin}/downloads/emsg-extension-chrome.zip`);
      expect(chrome.status).toBe(200);
      expect(chrome.headers.get("content-type")).toBe("application/zip");
      const chromeManifest = manifestIn(Buffer.from(await chrome.arrayBuffer()));
      expect(chromeManifest.manifest_version).toBe(3);
      expect(chromeManifest.background.service_worker).toBe("background.js");

      const firefox = await fetch(`${origin}/downloads/emsg-extension-firefox.zip`);
      expect(firefox.headers.get("content-type")).toBe("application/zip");
      const firefoxManifest = manifestIn(Buffer.from(await firefox.arrayBuffer()));
      expect(firefoxManifest.manifest_version).toBe(3);
      expect(firefoxManifest.background.scripts).toEqual(["background.js"]);
      expect(firefoxManifest.browser_specific_settings?.gecko?.id).toBe("emsg@emsg.im");
    }
    // The same bytes as the package on disk that `npm start` points to.
    const served = Buffer.from(await (await fetch(`${servers.origins["im.alice.test"]}/downloads/emsg-extension-chrome.zip`)).arrayBuffer());
    expect(served.equals(readFileSync(join(ROOT, "dist/extension/emsg-extension-chrome.zip")))).toBe(true);
  });

  it("ships least privilege: the permissions the README justifies, a strict CSP and no code that is not in the package", async () => {
    const origin = servers.origins["im.alice.test"]!;
    for (const browser of ["chrome", "firefox"]) {
      const files = zipEntries(Buffer.from(await (await fetch(`${origin}/downloads/emsg-extension-${browser}.zip`)).arrayBuffer()));
      const manifest = JSON.parse(files.get("manifest.json")!.toString("utf8")) as Manifest;
      const common = ["storage", "contextMenus", "alarms", "notifications"];
      expect(manifest.permissions.sort()).toEqual((browser === "chrome" ? [...common, "sidePanel", "unlimitedStorage"] : common).sort());
      if (browser === "chrome") expect(manifest.side_panel?.default_path).toBe("sidepanel.html");
      else expect(manifest.sidebar_action?.default_panel).toBe("sidepanel.html");
      expect(manifest.host_permissions ?? []).toEqual([]);
      expect(manifest.optional_permissions ?? []).toEqual([]);
      expect(manifest.web_accessible_resources).toBeUndefined();
      expect(manifest.content_scripts.flatMap((c) => c.matches)).toEqual(["http://*/*", "https://*/*"]);
      const csp = manifest.content_security_policy.extension_pages;
      expect(csp).toMatch(/(^|; )script-src 'self';/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(csp).not.toMatch(/unsafe-eval|wasm-unsafe-eval|https?:\/\/(?!127\.0\.0\.1)/);
      for (const [name, content] of files) {
        const text = content.toString("utf8");
        if (name.endsWith(".js")) expect(text, name).not.toMatch(/\beval\(|new Function\(|importScripts\(\s*["'`]https?:/);
        // Pages load only scripts from the package itself.
        if (name.endsWith(".html")) for (const src of text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) expect(src[1], name).toMatch(/^\/(?!\/)/);
      }
    }
  });

  it("answers a package it does not have with a 404, not with the app's page", async () => {
    const missing = await fetch(`${servers.origins["im.bob.test"]}/downloads/emsg-extension-safari.zip`, { headers: { accept: "text/html", "sec-fetch-mode": "navigate" } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe("not_found");
  });

  it("links both packages from the PWA's Settings, and the link downloads the zip past the service worker", async () => {
    const alice = await register(world, world.alice, "im.alice.test", "alice");
    // The Workbox service worker controls the page: its app-shell fallback must not answer the download.
    await expect.poll(() => alice.page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 20_000 }).toBe(true);
    await openTab(alice.page, "Settings");
    const section = alice.page.getByRole("region", { name: "Browser extension" });
    const chromeLink = section.getByRole("link", { name: "Download for Chrome" });
    expect(await chromeLink.getAttribute("href")).toBe("/downloads/emsg-extension-chrome.zip");
    expect(await section.getByRole("link", { name: "Download for Firefox" }).getAttribute("href")).toBe("/downloads/emsg-extension-firefox.zip");
    expect(await section.innerText()).toContain("chrome://extensions");

    const [download] = await Promise.all([alice.page.waitForEvent("download"), chromeLink.click()]);
    expect(download.suggestedFilename()).toBe("emsg-extension-chrome.zip");
    const saved = readFileSync((await download.path())!);
    expect(manifestIn(saved).manifest_version).toBe(3);
    // Opened as a page (typed in, or from another link), the service worker lets it through as well.
    const [typedIn] = await Promise.all([alice.page.waitForEvent("download"), alice.page.goto(`${world.alice}/downloads/emsg-extension-firefox.zip`).catch(() => null)]);
    expect(manifestIn(readFileSync((await typedIn.path())!)).browser_specific_settings?.gecko?.id).toBe("emsg@emsg.im");
    await alice.page.goto(world.alice);
    await alice.page.getByRole("navigation").waitFor();
    const cached = await alice.page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
      return urls;
    });
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.filter((url) => url.includes("/downloads/"))).toEqual([]);
    await alice.context.close();
  });
});
