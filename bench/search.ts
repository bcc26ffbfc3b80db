// Message search at scale (issue 17): `npx tsx bench/search.ts [COUNT]` fills the PWA's IndexedDB
// store (values sealed with AES-GCM, as the app does) with COUNT messages (default 100,000) in
// Debian's Chromium, times searches over it, and writes its section of BENCHMARKS.md.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { SEARCH_TITLE, withSection } from "./report-sections.js";
import { summarize } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const PORT = 18979;

interface PageResult {
  fillMs: number;
  runs: Record<string, number[]>;
  found: { rare: number; common: number; twoWords: number };
  carried: { link: number; export: number };
}

async function measure(count: number): Promise<PageResult> {
  const dir = mkdtempSync(join(tmpdir(), "emsg-bench-search-"));
  try {
    await build({ entryPoints: [join(ROOT, "bench/search-page.ts")], bundle: true, format: "esm", outfile: join(dir, "page.js"), logLevel: "error" });
    const script = readFileSync(join(dir, "page.js"));
    const server = createServer((req, res) => {
      if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
      else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script type="module" src="/page.js"></script>');
    });
    await new Promise<void>((done) => server.listen(PORT, "127.0.0.1", done));
    // A profile on disk, as an installed PWA's: an incognito context keeps IndexedDB in memory, slower to write.
    const browser = await chromium.launchPersistentContext(join(dir, "profile"), { executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`http://127.0.0.1:${PORT}/`);
      await page.waitForFunction(() => "runSearchBench" in globalThis);
      page.setDefaultTimeout(0);
      return (await page.evaluate(([n]) => (globalThis as unknown as { runSearchBench(n: number, c: number): Promise<PageResult> }).runSearchBench(n!, 20), [count])) as PageResult;
    } finally {
      await browser.close();
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (values: number[]) => {
  const s = summarize(values)!;
  return `${s.p50.toFixed(0)} ms (p95 ${s.p95.toFixed(0)})`;
};

function section(count: number, r: PageResult): string {
  return [
    SEARCH_TITLE,
    "",
    `\`npx tsx bench/search.ts\`, ${new Date().toISOString().slice(0, 10)}, Debian's Chromium: ${count.toLocaleString("en-GB")} messages in 20 chats, sealed`,
    "with AES-GCM in IndexedDB (a profile on disk) as the PWA stores them; search words kept folded in buckets of 1,000 messages (shared/client/search.ts).",
    "Each search after the first runs 5 times; medians, with p95.",
    "",
    "| what | time |",
    "| --- | --- |",
    `| the first search after the app opens (reads every bucket once) | ${ms(r.runs.first!)} |`,
    `| a rare word (${r.found.rare} hits, one message in 10,000) | ${ms(r.runs.rare!)} |`,
    `| a common word (first 50 of many hits) | ${ms(r.runs.common!)} |`,
    `| two words, one with an accent folded ("cafe ticket", ${r.found.twoWords} shown) | ${ms(r.runs.twoWords!)} |`,
    `| one word in one chat | ${ms(r.runs.inConversation!)} |`,
    `| storing and indexing one new message | ${ms(r.runs.newMessage!)} |`,
    `| opening a chat of ${Math.floor(count / 20).toLocaleString("en-GB")} messages: its newest 50, read and opened | ${ms(r.runs.openChat!)} |`,
    `| the 50 before them (scrolling up) | ${ms(r.runs.olderPage!)} |`,
    `| a device link's history: the newest messages it could carry (${r.carried.link.toLocaleString("en-GB")}), read and opened | ${ms(r.runs.linkHistory!)} |`,
    `| an export's history: the newest ${r.carried.export.toLocaleString("en-GB")}, read and opened | ${ms(r.runs.exportHistory!)} |`,
    `| filling the store (${count.toLocaleString("en-GB")} messages, batches of 1,000) | ${(r.fillMs / 1000).toFixed(0)} s |`,
  ].join("\n");
}


const count = Number(process.argv[2] ?? 100_000);
const result = await measure(count);
const text = section(count, result);
console.log(text);
const path = join(ROOT, "BENCHMARKS.md");
writeFileSync(path, withSection(readFileSync(path, "utf8"), text));
