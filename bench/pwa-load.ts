// The PWA's first load: how much JavaScript a new visitor downloads before the app runs, and how
// soon Chromium shows it, served by a real EMSG Worker on loopback.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import type { PwaFigures } from "./figures.js";
import { portIsFree } from "./processes.js";
import { summarize } from "./stats.js";
import { snapshotTree } from "./tree-snapshot.js";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const PORT = 8829;
const INSPECTOR_PORT = 9339;

/** Scripts the page loads before anything runs: its module entries and their modulepreloads. */
export function initialScripts(indexHtml: string): string[] {
  const found = new Set<string>();
  for (const match of indexHtml.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g)) found.add(match[1]!);
  for (const match of indexHtml.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)) found.add(match[1]!);
  return [...found];
}

/** `minify` false keeps the names a CPU profile shows. */
export function buildInto(tree: string, minify = true): string {
  const out = join(tree, "dist", "pwa");
  const args = ["build", "--config", "pwa/vite.config.ts", "--outDir", out, "--emptyOutDir", "--logLevel", "error", ...(minify ? [] : ["--minify", "false"])];
  execFileSync(process.execPath, [join(tree, "node_modules", "vite", "bin", "vite.js"), ...args], {
    cwd: tree,
    stdio: "pipe",
    env: { ...process.env, NODE_ENV: "production" },
  });
  return out;
}

function scriptBytes(dist: string): { raw: number; gzip: number; files: number } {
  const scripts = initialScripts(readFileSync(join(dist, "index.html"), "utf8"));
  if (scripts.length === 0) throw new Error("the built index.html loads no module script");
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const bytes = readFileSync(join(dist, src.replace(/^\//, "")));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip, files: scripts.length };
}

/** Cold loads in fresh profiles (no cache, no service worker): first paint and the onboarding form shown. */
async function firstRenders(origin: string, loads: number): Promise<{ fcp: number[]; ready: number[] }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const fcp: number[] = [];
  const ready: number[] = [];
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(origin);
      await page.getByRole("button", { name: "Create my address" }).waitFor();
      // The paint's entry is told after the frame is presented, so it may come after the form is found.
      const [paint, shown] = await page.evaluate(
        () =>
          new Promise<[number | null, number]>((resolve) => {
            const shown = performance.now();
            const timer = setTimeout(() => resolve([null, shown]), 10_000);
            new PerformanceObserver((list, observer) => {
              const entry = list.getEntriesByName("first-contentful-paint")[0];
              if (!entry) return;
              observer.disconnect();
              clearTimeout(timer);
              resolve([entry.startTime, shown]);
            }).observe({ type: "paint", buffered: true });
          }),
      );
      if (paint === null) throw new Error(`cold load ${i + 1}: Chromium reported no first contentful paint within 10 s of the form showing`);
      fcp.push(paint);
      ready.push(shown);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { fcp, ready };
}

/**
 * Builds the PWA in a snapshot of `root`, serves it from one `wrangler dev` domain on 127.0.0.1:8829
 * and measures `loads` cold loads. Needs Debian's Chromium.
 */
export async function runPwaLoad(root: string, loads: number, log: (line: string) => void): Promise<PwaFigures> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  if (!(await portIsFree(PORT, "127.0.0.1"))) throw new Error(`127.0.0.1:${PORT} is taken; the PWA figures need it`);
  const tree = snapshotTree(root);
  const persist = mkdtempSync(join(tmpdir(), "emsg-bench-pwa-"));
  const { startDomains }: typeof import("../scripts/dev-servers.mjs") = await import(pathToFileURL(join(tree, "scripts", "dev-servers.mjs")).href);
  let running: Awaited<ReturnType<typeof startDomains>> | undefined;
  try {
    log("pwa: building the PWA");
    const dist = buildInto(tree);
    const size = scriptBytes(dist);
    mkdirSync(persist, { recursive: true });
    running = await startDomains({ domains: [{ name: "alice", domain: "im.alice.test", port: PORT, inspectorPort: INSPECTOR_PORT }], persistRoot: persist });
    log(`pwa: ${loads} cold loads in Chromium`);
    const { fcp, ready } = await firstRenders(running.origins["im.alice.test"]!, loads);
    return { scriptFiles: size.files, scriptBytes: size.raw, scriptGzipBytes: size.gzip, loads, firstPaintMs: summarize(fcp), appShownMs: summarize(ready) };
  } finally {
    await running?.stopAll();
    rmSync(persist, { recursive: true, force: true });
    rmSync(resolve(tree), { recursive: true, force: true });
  }
}
