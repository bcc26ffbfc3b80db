// Catch-up as a user sees it: the PWA in Chromium opens on an account whose mailbox holds
// thousands of messages from many conversations, and the clock runs from opening the app until
// every message is stored in IndexedDB and the chat list shows each conversation's last one.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Page } from "playwright-core";
import { until, type Person, register } from "./emsg-people.js";
import { sendTexts } from "./backlog.js";
import type { CatchUpFigures } from "./figures.js";
import { buildInto, CHROMIUM } from "./pwa-load.js";
import { portIsFree, sleep } from "./processes.js";
import { snapshotTree } from "./tree-snapshot.js";

// The full run's ports; a run of its own may take others (EMSG_BENCH_CATCH_UP_PORT, inspectors 1000 above).
const PORT_BASE = Number(process.env.EMSG_BENCH_CATCH_UP_PORT ?? 18941);
const INSPECTOR_BASE = PORT_BASE + 1000;
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const READER = "reader";

export interface CatchUpPlan {
  conversations: number;
  perConversation: number;
}

const textOf = (sender: number, n: number) => `s${sender} m${n}`;

/**
 * Messages the PWA stored: its IndexedDB keys are clear text, message records under `msg/CONV/…`,
 * counted by the database itself (listing every key ten times a second took the page's time).
 */
function storedMessages(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((done, fail) => {
        const open = indexedDB.open("emsg");
        open.onerror = () => fail(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains("entries")) return done(0);
          const count = db.transaction("entries").objectStore("entries").count(IDBKeyRange.bound("msg/", "msg/\uffff"));
          count.onsuccess = () => {
            done(count.result);
            db.close();
          };
          count.onerror = () => fail(count.error);
        };
      }),
  );
}

/** What the app's status strip says now ("Catching up… 3,200 of 10,020"), if anything. */
function bannerText(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.querySelector('[data-testid="banner"]')?.textContent ?? undefined).catch(() => undefined);
}

/** Each chat row's unread count, by the last text it shows. */
async function unreadCounts(page: Page, lastTexts: string[]): Promise<number[]> {
  const rows = await page.getByTestId("chat-row").all();
  const byText = new Map<string, number>();
  for (const row of rows) {
    const text = await row.innerText();
    const badge = await row.locator(".badge").innerText().catch(() => "0");
    for (const last of lastTexts) if (text.includes(last)) byText.set(last, Number(badge));
  }
  return lastTexts.map((text) => byText.get(text) ?? 0);
}

/** Whether the chat list shows `count` chats, each with the last text its sender sent. */
async function chatListShows(page: Page, lastTexts: string[]): Promise<boolean> {
  const rows = await page.getByTestId("chat-row").allInnerTexts().catch(() => []);
  return rows.length === lastTexts.length && lastTexts.every((text) => rows.some((row) => row.includes(text)));
}

/** The reader accepts `from`'s friend request on the Friends tab of the PWA. */
async function accept(page: Page, from: string): Promise<void> {
  await page.getByRole("navigation").getByRole("button", { name: "Friends" }).click();
  const request = page.getByTestId("incoming").getByTestId("person").filter({ hasText: from });
  await request.getByRole("button", { name: "Accept" }).click({ timeout: 60_000 });
  await page.getByTestId("friend-list").getByText(from).waitFor({ timeout: 60_000 });
}

async function openApp(page: Page, origin: string): Promise<void> {
  await page.goto(origin);
  await page.getByRole("navigation").waitFor({ timeout: 60_000 });
}

/**
 * Builds the PWA in a snapshot of `root`, starts two domains on 127.0.0.1:PORT_BASE and the next, registers
 * the reader in Chromium and `conversations` senders (half on each domain) as Node clients, each
 * a friend with a 1:1 conversation. With the app closed, each sender sends `perConversation`
 * texts; then the app is opened again and timed until all are stored and listed.
 */
export async function runCatchUp(root: string, plan: CatchUpPlan, log: (line: string) => void): Promise<CatchUpFigures> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  for (const port of [PORT_BASE, PORT_BASE + 1]) if (!(await portIsFree(port, "127.0.0.1"))) throw new Error(`127.0.0.1:${port} is taken; the catch-up figures need it`);
  const tree = snapshotTree(root);
  const persist = mkdtempSync(join(tmpdir(), "emsg-bench-catchup-"));
  const { startDomains, twoDomains }: typeof import("../scripts/dev-servers.mjs") = await import(pathToFileURL(join(tree, "scripts", "dev-servers.mjs")).href);
  let running: Awaited<ReturnType<typeof startDomains>> | undefined;
  // A profile on disk, as an installed PWA's: an incognito context keeps IndexedDB in memory, whose
  // writes cost Chromium's browser process 3-5 times the CPU of writes to disk, more as it fills.
  const profile = mkdtempSync(join(tmpdir(), "emsg-bench-catchup-profile-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, locale: "en-GB" });
  const browser = context.browser()!;
  try {
    // EMSG_BENCH_CATCH_UP_PROFILE=file.cpuprofile records the page's CPU profile while it catches up, of an unminified build.
    const profileTo = process.env.EMSG_BENCH_CATCH_UP_PROFILE;
    log("catch-up: building the PWA");
    buildInto(tree, profileTo === undefined);
    running = await startDomains({ domains: twoDomains(PORT_BASE, INSPECTOR_BASE), persistRoot: persist });
    const origin = running.origins["im.alice.test"]!;
    let page = context.pages()[0] ?? (await context.newPage());
    await page.goto(origin);
    await page.getByLabel("Name").fill(READER);
    await page.getByRole("button", { name: "Create my address" }).click();
    await page.getByRole("navigation").waitFor();
    const reader = `${READER}#im.alice.test`;

    log(`catch-up: ${plan.conversations} senders befriend ${reader} and open a conversation each`);
    const senders: Person[] = [];
    for (let i = 0; i < plan.conversations; i++) {
      const domain = i % 2 === 0 ? "im.alice.test" : "im.bob.test";
      const sender = await register(`sender${i}#${domain}`, running.resolve);
      await sender.client.sendFriendRequest(reader, "catch-up bench");
      await accept(page, sender.address);
      await until(`${sender.address} to see ${reader} accept`, async () => {
        await sender.client.sync();
        return (await sender.client.friends()).some((f) => f.address === reader && f.state === "friend");
      }, 60_000);
      await sender.client.sendText(reader, textOf(i, 0));
      await until(`${sender.address} to open the conversation`, async () => (await sender.client.flush()) === 0, 60_000);
      senders.push(sender);
      log(`catch-up: ${sender.address} is a friend`);
    }
    await page.getByRole("navigation").getByRole("button", { name: "Chats" }).click();
    await until("the reader's chat list to show every conversation", () => chatListShows(page, senders.map((_, i) => textOf(i, 0))), 120_000)
      .catch(async (error: unknown) => {
        await page.screenshot({ path: join(root, "test-artifacts", "catch-up-setup.png") }).catch(() => undefined);
        throw error;
      });
    await page.close();

    const queued = plan.conversations * plan.perConversation;
    log(`catch-up: ${queued.toLocaleString("en-US")} messages sent while the app is closed`);
    // Encrypted ahead and submitted over a session straight to each hub, as bench/emsg-links.ts does: the
    // client's queue would take minutes to send 10,000 here, and what is timed is the reader.
    await Promise.all(senders.map((sender, i) => sendTexts(sender, reader, Array.from({ length: plan.perConversation }, (_, k) => textOf(i, k + 1)))));
    // Cross-domain copies reach the reader's mailbox through the senders' Outbox a moment after the hub's answer.
    await sleep(5000);
    for (const sender of senders) sender.client.disconnect();

    const stored = queued + plan.conversations;
    const lastTexts = senders.map((_, i) => textOf(i, plan.perConversation));
    log("catch-up: opening the app");
    page = await context.newPage();
    // What the app reports going wrong meanwhile is in the log, not lost with the page.
    let reported = 0;
    page.on("console", (message) => {
      if ((message.type() === "error" || message.type() === "warning") && reported++ < 20) log(`catch-up: the page says (${message.type()}): ${message.text().slice(0, 500)}`);
    });
    page.on("pageerror", (error) => log(`catch-up: the page failed: ${error.message}`));
    // Requests the page has made, by method and path, for a catch-up that stops moving.
    const requests = new Map<string, number>();
    page.on("request", (request) => {
      const key = `${request.method()} ${new URL(request.url()).pathname.replace(/[A-Za-z0-9_-]{16,}/g, "…")}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    });
    // EMSG_BENCH_CATCH_UP_RELOAD=1 reloads the page once, a third of the way in: it must go on from where it stopped, losing and repeating nothing.
    const reloadAt = process.env.EMSG_BENCH_CATCH_UP_RELOAD === "1" ? Math.round(stored / 3) : undefined;
    let reloaded = false;
    const banners = new Set<string>();
    const cdp = await context.newCDPSession(page);
    if (profileTo) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.start");
    }
    // EMSG_BENCH_CATCH_UP_TRACE=file.json records a Chromium trace of it instead, for what the CPU profile does not
    // show: the renderer's native work per IndexedDB request and WebCrypto call, and where it waits (bench/trace-summary.ts).
    const traceTo = process.env.EMSG_BENCH_CATCH_UP_TRACE;
    if (traceTo) await browser.startTracing(page, { path: traceTo, categories: ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "IndexedDB"] });
    // The page's process CPU time: on this shared machine the wall clock mostly says how loaded it was.
    await cdp.send("Performance.enable");
    const cpuSeconds = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ProcessTime")?.value;
    const cpuBefore = await cpuSeconds();
    const t0 = performance.now();
    await openApp(page, origin);
    const shownMs = performance.now() - t0;
    let counted = 0;
    let listedMs: number | undefined;
    const deadline = t0 + 900_000;
    let logged = t0;
    let lastCounted = -1;
    for (;;) {
      const banner = await bannerText(page);
      if (banner?.startsWith("Catching up")) banners.add(banner);
      if (listedMs === undefined && (await chatListShows(page, lastTexts))) listedMs = performance.now() - t0;
      // Counted only when it can end the wait (or a reload waits for it, or the log is due): a count walks
      // every message key in Chromium's browser process, ~10 ms at 10,000, which the page then waits for.
      const logDue = performance.now() - logged > 10_000;
      if (listedMs !== undefined || (reloadAt !== undefined && !reloaded) || logDue) counted = await storedMessages(page);
      if (reloadAt !== undefined && !reloaded && counted >= reloadAt) {
        log(`catch-up: reloading the page at ${counted} of ${stored} stored`);
        reloaded = true;
        await openApp(page, origin);
        continue;
      }
      if (counted >= stored && listedMs !== undefined) break;
      if (performance.now() > deadline) {
        await page.screenshot({ path: join(root, "test-artifacts", "catch-up-stalled.png") }).catch(() => undefined);
        throw new Error(`catch-up stopped at ${counted} of ${stored} messages stored after 15 minutes`);
      }
      if (logDue) {
        log(`catch-up: ${counted} of ${stored} stored after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        if (counted === lastCounted) {
          const status = (await page.locator("body").innerText().catch(() => "")).replace(/\s+/g, " ").slice(0, 300);
          log(`catch-up: no progress; the page shows "${status}"; requests so far: ${[...requests].map(([key, n]) => `${key} ×${n}`).join(", ")}`);
        }
        lastCounted = counted;
        logged = performance.now();
      }
      await sleep(100);
    }
    const totalMs = performance.now() - t0;
    const cpuAfter = await cpuSeconds();
    if (profileTo) writeFileSync(profileTo, JSON.stringify((await cdp.send("Profiler.stop")).profile));
    if (traceTo) await browser.stopTracing();
    log(`catch-up: the banner showed ${banners.size} steps of its progress: ${[...banners].slice(0, 3).join(" · ")}${banners.size > 3 ? " …" : ""}`);
    // Every text, and none twice: each chat counts its sender's texts unread (the first one's included), once each.
    const unread = await unreadCounts(page, lastTexts);
    if (counted !== stored || unread.some((n) => n !== plan.perConversation + 1)) {
      throw new Error(`catch-up ended with ${counted} of ${stored} messages stored and unread counts ${unread.join(", ")} (each should be ${plan.perConversation + 1})`);
    }
    return { conversations: plan.conversations, queued, appShownMs: shownMs, listedMs, totalMs, msgsPerSec: (queued * 1000) / totalMs, progressSteps: banners.size,
      ...(cpuBefore !== undefined && cpuAfter !== undefined && !reloaded ? { pageCpuMs: (cpuAfter - cpuBefore) * 1000 } : {}), ...(reloaded ? { reloaded: true } : {}) };
  } finally {
    await context.close();
    await running?.stopAll();
    rmSync(persist, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
    rmSync(resolve(tree), { recursive: true, force: true });
  }
}
