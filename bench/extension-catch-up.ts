// Catch-up in the extension, one build against another: Chromium starts with the extension on a
// profile whose account has a backlog of texts from one friend in its mailbox, and the clock runs
// until the background has stored every one. Builds take turns, each on an account of its own.
//
//   npx tsx bench/extension-catch-up.ts BEFORE_DIR AFTER_DIR [messages=2000] [rounds=3]
//
// BEFORE_DIR and AFTER_DIR are built extensions (dist/extension/chrome-mv3 of `wxt build extension`
// in each tree). Servers: this tree's, on EMSG_BENCH_EXT_PORT (19752) and the next.
// EMSG_BENCH_EXT_PANEL=1: the side panel is open from the start, as someone who opens EMSG to read
// what came has it (the background then tells it of every message); without it no page is open.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Worker } from "playwright-core";
import { startDomains, twoDomains } from "../scripts/dev-servers.mjs";
import { sendBacklog, storedTextsInIndexedDb } from "./backlog.js";
import { type Person, register, until } from "./emsg-people.js";
import { descendantsNamed, sleep } from "./processes.js";

const PORT_BASE = Number(process.env.EMSG_BENCH_EXT_PORT ?? 19752);
const CHROMIUM = "/usr/bin/chromium";
const TICKS = 100;
const WITH_PANEL = process.env.EMSG_BENCH_EXT_PANEL === "1";

interface Build {
  label: string;
  dir: string;
  profile: string;
  alice: string;
  stored: number;
}

/** CPU seconds of every Chromium process this one started (browser, extension renderer, network service...). */
function chromiumCpu(): number {
  let ticks = 0;
  for (const pid of descendantsNamed("chromium")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime, and the reaped children's cutime, cstime (fields 14-17 of stat).
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / TICKS;
}

async function launch(build: Build): Promise<{ context: BrowserContext; worker: Worker; id: string }> {
  const context = await chromium.launchPersistentContext(build.profile, {
    executablePath: CHROMIUM,
    headless: false,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--disable-extensions-except=${build.dir}`, `--load-extension=${build.dir}`],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker", { timeout: 30_000 }));
  return { context, worker, id: new URL(worker.url()).host };
}

/** Texts the background has stored, counted without reading them: IndexedDB's count, or storage.local's keys (an older build). */
async function storedTexts(worker: Worker): Promise<number> {
  const counted = await worker.evaluate(storedTextsInIndexedDb);
  if (counted > 0) return counted;
  return worker.evaluate(async () => {
    const chrome = (globalThis as unknown as { chrome: { storage: { local: { getKeys(): Promise<string[]> } } } }).chrome;
    return (await chrome.storage.local.getKeys()).filter((key) => key.startsWith("emsg:msg/")).length;
  });
}

/** `build`'s account made in its panel, a friend of bob's with one text from him stored. */
async function setUp(build: Build, bob: Person, origin: string): Promise<void> {
  const { context, worker, id } = await launch(build);
  try {
    const panel = await context.newPage();
    await panel.goto(`chrome-extension://${id}/sidepanel.html`);
    await panel.getByLabel("Your EMSG address").fill(build.alice);
    await panel.getByLabel(/Server URL/).fill(origin);
    await panel.getByRole("button", { name: "Create my address" }).click();
    await panel.getByRole("tab", { name: "Friends" }).click({ timeout: 60_000 });
    await panel.getByLabel("Address or emsg: link").fill(bob.address);
    await panel.getByRole("button", { name: "Send request" }).click();
    await until(`${bob.address} to get ${build.alice}'s request`, async () => {
      await bob.client.sync();
      return (await bob.client.friends()).some((f) => f.address === build.alice && f.state !== "friend");
    }, 60_000);
    await bob.client.acceptFriend(build.alice);
    await panel.getByRole("list", { name: "Friends" }).getByRole("button", { name: "Message" }).waitFor({ timeout: 90_000 });
    await bob.client.sendText(build.alice, "first");
    await until(`${bob.address} to open a conversation with ${build.alice}`, async () => (await bob.client.flush()) === 0, 60_000);
    await until(`${build.alice} to store bob's first text`, async () => (await storedTexts(worker)) === 1, 60_000);
    build.stored = 1;
  } finally {
    await context.close();
  }
}

/** Starts `build` on its profile and times it until every text of its backlog is stored. */
async function catchUp(build: Build, count: number): Promise<{ seconds: number; cpu: number }> {
  const target = build.stored + count;
  const t0 = performance.now();
  const { context, worker, id } = await launch(build);
  try {
    if (WITH_PANEL) await (await context.newPage()).goto(`chrome-extension://${id}/sidepanel.html`);
    const deadline = t0 + 600_000;
    for (;;) {
      const stored = await storedTexts(worker);
      if (stored >= target) {
        const result = { seconds: (performance.now() - t0) / 1000, cpu: chromiumCpu() };
        if (stored !== target) throw new Error(`${build.label}: ${stored} texts stored, ${target} sent`);
        build.stored = stored;
        return result;
      }
      if (performance.now() > deadline) throw new Error(`${build.label}: ${stored} of ${target} stored after 10 minutes`);
      await sleep(250);
    }
  } finally {
    await context.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const [before, after, messagesArg, roundsArg] = process.argv.slice(2);
  if (!before || !after) throw new Error("usage: npx tsx bench/extension-catch-up.ts BEFORE_DIR AFTER_DIR [messages] [rounds]");
  const messages = Number(messagesArg ?? 2000);
  const rounds = Number(roundsArg ?? 3);
  const persist = mkdtempSync(join(tmpdir(), "emsg-bench-ext-"));
  const servers = await startDomains({ domains: twoDomains(PORT_BASE, PORT_BASE + 1000), persistRoot: persist });
  const builds: Build[] = [
    { label: "before", dir: before, profile: mkdtempSync(join(tmpdir(), "emsg-bench-ext-before-")), alice: "alicebefore#im.alice.test", stored: 0 },
    { label: "after", dir: after, profile: mkdtempSync(join(tmpdir(), "emsg-bench-ext-after-")), alice: "aliceafter#im.alice.test", stored: 0 },
  ];
  try {
    const origin = servers.origins["im.alice.test"]!;
    const bob = await register("bob#im.alice.test", servers.resolve);
    for (const build of builds) await setUp(build, bob, origin);
    const figures = new Map<string, Array<{ seconds: number; cpu: number }>>(builds.map((b) => [b.label, []]));
    for (let round = 0; round < rounds; round++) {
      // Turns alternate which build goes first: a slow minute of the machine falls on both.
      for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
        await sendBacklog(bob, build.alice, messages);
        await sleep(2000);
        const result = await catchUp(build, messages);
        figures.get(build.label)!.push(result);
        console.log(`round ${round + 1} ${build.label}: ${messages} texts stored in ${result.seconds.toFixed(1)} s, Chromium CPU ${result.cpu.toFixed(1)} s (load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]})`);
      }
    }
    for (const [label, runs] of figures) {
      console.log(`${label}: median ${median(runs.map((r) => r.seconds)).toFixed(1)} s wall, ${median(runs.map((r) => r.cpu)).toFixed(1)} s Chromium CPU (${runs.map((r) => `${r.seconds.toFixed(1)}/${r.cpu.toFixed(1)}`).join(", ")})`);
    }
    bob.client.disconnect();
  } finally {
    await servers.stopAll();
    rmSync(persist, { recursive: true, force: true });
    for (const build of builds) rmSync(build.profile, { recursive: true, force: true });
  }
}

await main();
