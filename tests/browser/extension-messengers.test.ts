import { readFileSync, existsSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchWithExtension, ROOT, serveHttp, serveHttps, type LoadedExtension, type Served } from "./extension-harness.js";

const FIXTURES = join(ROOT, "tests/fixtures/messengers");
const CONVERSE_DIST = join(ROOT, "node_modules/converse.js/dist");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");

// The real Converse.js client, with no XMPP server: it renders its login screen, which is what
// a user sees before logging in, so the adapter is checked against Converse's own markup.
const CONVERSE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Converse</title>
<link rel="stylesheet" href="/dist/converse.min.css"><script type="module" src="/dist/converse.min.js"></script></head>
<body class="converse-fullscreen"><script type="module">
converse.initialize({ assets_path: "/dist/", view_mode: "fullscreen", auto_login: false, discover_connection_methods: false,
  websocket_url: "ws://127.0.0.1:9/xmpp-websocket", i18n: "en", loglevel: "fatal", play_sounds: false });
</script></body></html>`;

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf" };

describe("the EMSG entry point inside web messengers", () => {
  let ext: LoadedExtension;
  let messengers: Served;
  let local: Served;

  beforeAll(async () => {
    // The messengers' own host names, mapped to this loopback HTTPS server.
    messengers = await serveHttps((req, res) => {
      const byHost: Record<string, string> = { "web.whatsapp.com": "whatsapp-web.html", "web.telegram.org": "telegram-web-k.html", "app.element.io": "element-web.html" };
      const file = byHost[(req.headers.host ?? "").split(":")[0]!];
      res.writeHead(file ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
      res.end(file ? fixture(file) : "not here");
    });
    // Self-hosted deployments on an arbitrary origin: recognized by their markup.
    local = await serveHttp((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path.startsWith("/dist/")) {
        const file = normalize(join(CONVERSE_DIST, path.slice(6)));
        if (!file.startsWith(CONVERSE_DIST) || !existsSync(file)) return void res.writeHead(404).end();
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
        return void res.end(readFileSync(file));
      }
      const pages: Record<string, string> = { "/converse": CONVERSE_PAGE, "/converse-fixture": fixture("converse-fullscreen.html"), "/element-legacy": fixture("element-web-legacy.html") };
      res.writeHead(pages[path] ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
      res.end(pages[path] ?? "not here");
    });
    ext = await launchWithExtension(messengers.port);
  }, 120_000);

  afterAll(async () => {
    await ext?.close();
    await messengers?.close();
    await local?.close();
  });

  async function openEntryPoint(page: Page, messenger: string, anchor: string): Promise<void> {
    const host = page.locator(`emsg-entry-point[data-messenger="${messenger}"]`);
    await expect.poll(() => host.count(), { timeout: 15_000 }).toBe(1);
    expect(await host.evaluate((el, sel) => el.parentElement?.closest(sel) !== null, anchor)).toBe(true);
    const button = host.getByRole("button", { name: "EMSG", exact: true });
    expect(await button.getAttribute("aria-expanded")).toBe("false");
    await button.click();
    const dialog = host.getByRole("dialog", { name: "EMSG" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await button.getAttribute("aria-expanded")).toBe("true");
    // The page can read this DOM, so it says nothing about the account or its friends.
    await expect.poll(() => dialog.innerText()).toContain("Add someone by their EMSG address");
    // Adding a friend from inside the messenger goes through the background like everywhere else.
    await host.getByRole("textbox", { name: "EMSG address to add" }).fill(`${messenger.toLowerCase().replace(/[^a-z]/g, "")}#im.example.com`);
    await host.getByRole("button", { name: "Add as EMSG friend" }).click();
    await expect.poll(() => host.getByRole("status").innerText()).toContain("will be added once EMSG is set up");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
  }

  it.each([
    ["WhatsApp", "https://web.whatsapp.com/", "#side header"],
    ["Telegram", "https://web.telegram.org/k/", "#column-left .sidebar-header"],
    ["Element", "https://app.element.io/#/home", ".mx_RoomListHeaderView"],
  ])("puts an EMSG button into %s's own header, and it opens", async (messenger, url, anchor) => {
    const page = await ext.context.newPage();
    await page.goto(url);
    await openEntryPoint(page, messenger, anchor);
    await page.close();
  });

  it("opens EMSG beside the messenger from its button", async () => {
    const page = await ext.context.newPage();
    await page.goto("https://web.whatsapp.com/");
    const host = page.locator('emsg-entry-point[data-messenger="WhatsApp"]');
    await host.getByRole("button", { name: "EMSG", exact: true }).click();
    await host.getByRole("button", { name: "Open EMSG" }).click();
    await expect.poll(() => host.getByRole("status").innerText()).toBe("EMSG is open beside this page.");
    // Chrome's side panel is not a tab Playwright lists; the extension itself can see it.
    const panels = () =>
      ext.worker.evaluate(async () => {
        const runtime = (globalThis as unknown as { chrome: { runtime: { getContexts(f: object): Promise<Array<{ documentUrl: string }>> } } }).chrome.runtime;
        return (await runtime.getContexts({ contextTypes: ["SIDE_PANEL"] })).map((c) => new URL(c.documentUrl).pathname);
      });
    await expect.poll(panels).toEqual(["/sidepanel.html"]);
    await page.close();
  });

  it("recognizes a self-hosted Element with the legacy room list by its markup", async () => {
    const page = await ext.context.newPage();
    await page.goto(`${local.origin}/element-legacy`);
    await openEntryPoint(page, "Element", ".mx_LeftPanel_filterContainer");
    await page.close();
  });

  it("puts the button into a logged-in Converse.js control box", async () => {
    const page = await ext.context.newPage();
    await page.goto(`${local.origin}/converse-fixture`);
    await openEntryPoint(page, "Converse.js", "converse-user-profile .profile");
    await page.close();
  });

  it("finds its place in the real Converse.js client, which renders after the page loaded", async () => {
    const page = await ext.context.newPage();
    // Its footer shows sponsor logos from conversejs.org: refused here, nothing leaves loopback.
    await page.route("https://conversejs.org/**", (route) => route.abort());
    await page.goto(`${local.origin}/converse`);
    await expect.poll(() => page.locator("converse-login-form").count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await openEntryPoint(page, "Converse.js", "converse-controlbox-buttons");
    await page.close();
  });
});
