// Runs the built PWA on two real local EMSG domains and drives it with Debian's Chromium.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import type { RunningDomains } from "../../scripts/dev-servers.mjs";
import { startServers } from "./servers.js";
import { watchContext } from "./failure-log.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const ARTIFACTS = join(ROOT, "test-artifacts");
const CHROMIUM = "/usr/bin/chromium";
// WebRTC stays on loopback: no mDNS names for host candidates (resolving them would multicast on
// the real interface), loopback candidates allowed (they appear once a page has media permission).
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-features=WebRtcHideLocalIpsWithMdns", "--allow-loopback-in-peer-connection",
];

/**
 * Runs in every page before the app: the only remote ICE candidates a page takes are loopback
 * ones, so direct channels (PROTOCOL §10) between two test browsers never leave this machine.
 */
const LOOPBACK_ONLY_ICE = `(() => {
  if (typeof RTCPeerConnection === "undefined") return;
  const add = RTCPeerConnection.prototype.addIceCandidate;
  RTCPeerConnection.prototype.addIceCandidate = function (candidate, ...rest) {
    const text = (candidate && candidate.candidate) || "";
    if (text && !/ (127\\.0\\.0\\.1|::1) \\d+ typ /.test(text)) return Promise.resolve();
    return add.call(this, candidate, ...rest);
  };
})();`;
// Ports apart from `npm start` (8787) and the end-to-end tests.
const PORT_BASE = 8807;
const INSPECTOR_BASE = 9407;

export interface PwaWorld {
  browser: Browser;
  servers: RunningDomains;
  alice: string;
  bob: string;
  close(): Promise<void>;
}

/**
 * Two domains on `ports` (default 8807/8808); a test file with its own range passes it here, and
 * `browserArgs` for Chromium switches of its own (e.g. a fake camera).
 */
export async function startWorld(
  ports: { portBase: number; inspectorBase: number; browserArgs?: string[] } = { portBase: PORT_BASE, inspectorBase: INSPECTOR_BASE },
): Promise<PwaWorld> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const persistRoot = mkdtempSync(join(tmpdir(), "emsg-pwa-"));
  const servers = await startServers(ports.portBase, ports.inspectorBase, persistRoot);
  const browser = await launchChromium(ports.browserArgs);
  return {
    browser,
    servers,
    alice: servers.origins["im.alice.test"]!,
    bob: servers.origins["im.bob.test"]!,
    async close() {
      await browser.close();
      await servers.stopAll();
      rmSync(persistRoot, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium with the switches every PWA test needs (WebRTC kept on loopback among them). */
export function launchChromium(browserArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...browserArgs] });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  address: string;
}

/** A fresh browser profile that opens the PWA on `origin` and registers `name` on `domain` there. */
export async function register(world: Pick<PwaWorld, "browser">, origin: string, domain: string, name: string): Promise<Person> {
  const context = await world.browser.newContext({ viewport: { width: 1180, height: 760 }, locale: "en-GB" });
  await context.addInitScript(LOOPBACK_ONLY_ICE);
  watchContext(context, name);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`));
  await page.goto(origin);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create my address" }).click();
  await page.getByRole("navigation").waitFor();
  return { context, page, address: `${name}#${domain}` };
}

/**
 * Chromium gathers loopback ICE candidates only for a page granted media access: this asks for a
 * (fake) microphone once, so the browser needs `--use-fake-ui-for-media-stream` and
 * `--use-fake-device-for-media-stream`. Call it again after a reload.
 */
export async function allowLoopbackCandidates(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const track of stream.getTracks()) track.stop();
  });
}

/**
 * Grants `origin` notifications and tells the page it is hidden (headless Chromium never hides a
 * page by itself). The page learns of the grant asynchronously: it is waited for, else a message
 * arriving at once would find the permission still "default" and rightly show nothing.
 */
export async function hideWithNotifications(person: Person, origin: string): Promise<void> {
  await person.context.grantPermissions(["notifications"], { origin });
  await person.page.waitForFunction(() => Notification.permission === "granted");
  await person.page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
  });
}

/** Undoes hideWithNotifications' hiding. */
export async function showAgain(person: Person): Promise<void> {
  await person.page.evaluate(() => {
    delete (document as unknown as { visibilityState?: string }).visibilityState;
  });
}

/** The system notifications the page's service worker shows, as "title: body". */
export function shownNotifications(person: Person): Promise<string[]> {
  return person.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => `${n.title}: ${n.body}`));
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `pwa-${name}.png`) });
}

/** Whether the chat header's status line shows whole, its message path (last in it) included. */
export function statusLineWhole(page: Page): Promise<boolean> {
  return page.getByTestId("message-path").evaluate((path) => {
    const line = path.parentElement!;
    const [box, lineBox] = [path.getBoundingClientRect(), line.getBoundingClientRect()];
    return line.scrollWidth <= line.clientWidth && box.width > 0 && box.right <= lineBox.right + 0.5;
  });
}

/** Whether the chat's newest message is whole in view: not cut by the composer or the screen's edge. */
export function newestWhole(page: Page): Promise<boolean> {
  return page.getByTestId("timeline").evaluate((timeline) => {
    const newest = [...timeline.querySelectorAll('[data-testid="message"]')].at(-1);
    if (!newest) return false;
    const [box, view] = [newest.getBoundingClientRect(), timeline.getBoundingClientRect()];
    if (box.height === 0 || box.bottom > view.bottom + 0.5 || box.top < view.top - 0.5) return false;
    // Nothing else drawn over its top and bottom lines (the composer, the tab bar).
    const x = (box.left + box.right) / 2;
    return [box.top + 2, box.bottom - 2].every((y) => newest.contains(document.elementFromPoint(x, y)));
  });
}

/**
 * The banner of a page with no server: Chromium's emulated offline leaves a reloaded page's
 * navigator.onLine true, which the app takes for a dropped server connection, and says so.
 */
export async function offlineBanner(page: Page): Promise<Locator> {
  const offline = await page.evaluate(() => !navigator.onLine);
  return page.getByTestId("banner").getByText(offline ? "You are offline" : /^Lost the connection to /);
}

export async function openTab(page: Page, tab: "Chats" | "Friends" | "Favorites" | "Settings"): Promise<void> {
  await page.getByRole("navigation").getByRole("button", { name: tab }).click();
}

/** `from` asks `to` for friendship on the Friends tab, `to` accepts, and `from` sees them listed. */
export async function befriend(from: Person, to: Person): Promise<void> {
  await openTab(from.page, "Friends");
  await from.page.getByLabel("Address or emsg: link").fill(to.address);
  await from.page.getByRole("button", { name: "Send request" }).click();
  await from.page.getByText(`Request sent to ${to.address}.`).waitFor();
  await openTab(to.page, "Friends");
  const request = to.page.getByTestId("incoming").getByTestId("person");
  await request.getByText(from.address).waitFor({ timeout: 30_000 });
  await request.getByRole("button", { name: "Accept" }).click();
  await from.page.getByTestId("friend-list").getByText(to.address).waitFor({ timeout: 30_000 });
}

/** Alice (im.alice.test) and Bob (im.bob.test) made friends, and Alice's "Hello from the laptop" delivered to Bob. */
export async function friendsWhoChatted(world: PwaWorld): Promise<{ alice: Person; bob: Person }> {
  const alice = await register(world, world.alice, "im.alice.test", "alice");
  const bob = await register(world, world.bob, "im.bob.test", "bob");
  await befriend(alice, bob);
  await alice.page.getByTestId("friend-list").getByRole("button", { name: "Message" }).click();
  const composer = alice.page.getByLabel("Message", { exact: true });
  await composer.fill("Hello from the laptop");
  await composer.press("Enter");
  await alice.page.getByTestId("message").filter({ hasText: "Hello from the laptop" }).locator("[data-status=delivered], [data-status=read]").waitFor({ timeout: 30_000 });
  return { alice, bob };
}
