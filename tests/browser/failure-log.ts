// What a browser test's pages and servers said, kept for when a test fails: a failure seen once in
// a full run then tells which side stalled (a warning of the client core, a server's error) instead
// of only the locator that timed out. What each open page shows is printed then too.
import type { BrowserContext, Page } from "playwright-core";
import { afterEach, beforeAll } from "vitest";

declare module "vitest" {
  interface TaskMeta {
    /** What the pages and servers said before the test failed (see printOnFailure). */
    failureLog?: string;
  }
}

const KEPT = 600;
const lines: string[] = [];
const watched = new Map<BrowserContext, string>();
/**
 * Of each page's text, this much of its start and of its end is printed: the chat list and header
 * fill the start, and the newest messages and the composer are at the end.
 */
const PAGE_TEXT_EACH_END = 1000;
const PAGE_TIMEOUT_MS = 5000;
/** The lines of it repeated at the end of the run: the last ones before the failure. */
const FAILURE_LOG_TAIL = 40;
// The PWA's files, served as it loads: many lines, none telling.
const STATIC = /\[(?:wrangler|miniflare):info\] GET \/(assets|icons)\//;

export function remember(source: string, line: string): void {
  if (STATIC.test(line)) return;
  lines.push(`${new Date().toISOString().slice(11, 23)} [${source}] ${line}`);
  if (lines.length > KEPT) lines.splice(0, lines.length - KEPT);
}

/** A server's output line (the launcher's `onLine`), marked with its domain's name. */
export function rememberServer(d: { name: string }, line: string): void {
  remember(d.name, line);
}

/** Keeps the warnings and errors of every page of `context`, each marked with `name`. */
export function watchContext(context: BrowserContext, name: string): void {
  watched.set(context, name);
  context.on("close", () => watched.delete(context));
  context.on("console", (message) => {
    const type = message.type();
    if (type === "warning" || type === "error") remember(name, `${type}: ${message.text()}`);
  });
  context.on("weberror", (error) => remember(name, `page error: ${error.error().message}`));
}

// Registered by the browser project's setup file, so every browser test file has it.
export function printOnFailure(): void {
  // The project's files share this module (no isolation): a failure shows only its own file's lines.
  beforeAll(() => {
    lines.length = 0;
  });
  afterEach(async ({ task }) => {
    if (task.result?.state !== "fail") return;
    if (lines.length > 0) console.error(`What the pages and servers said before "${task.name}" failed (last ${lines.length} lines):\n${lines.join("\n")}`);
    const shown = await Promise.all([...watched].flatMap(([context, name]) => context.pages().map((page, i) => pageText(page, `${name}${i === 0 ? "" : ` ${i + 1}`}`))));
    if (shown.length > 0) console.error(`What the pages showed when "${task.name}" failed:\n${shown.join("\n")}`);
    // Printed again by the summary reporter after the run's totals, where a CI log's tail shows it.
    task.meta.failureLog = [...lines.slice(-FAILURE_LOG_TAIL), ...shown].join("\n");
  });
}

/**
 * A page's address, visible text (shortened) and what its text fields hold (a composer's draft is
 * no part of the text); a page that does not answer says so.
 */
async function pageText(page: Page, name: string): Promise<string> {
  const [text, fields] = await Promise.all([
    answered(page.innerText("body")),
    answered(
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("textarea, input:not([type=hidden]):not([type=password]):not([type=file]):not([type=checkbox]):not([type=radio])")]
          .filter((field) => field.value !== "")
          .map((field) => `${field.getAttribute("aria-label") ?? (field.name || field.placeholder || field.tagName.toLowerCase())}: ${JSON.stringify(field.value.slice(0, 200))}`)
          .join("; "),
      ),
    ),
  ]);
  const flat = text.replace(/\s*\n\s*/g, " | ");
  const shown = flat.length > 2 * PAGE_TEXT_EACH_END ? `${flat.slice(0, PAGE_TEXT_EACH_END)} … ${flat.slice(-PAGE_TEXT_EACH_END)}` : flat;
  return `[${name}] ${page.url()}\n  ${shown}${fields ? `\n  fields: ${fields}` : ""}`;
}

function answered(reading: Promise<string>): Promise<string> {
  return Promise.race([
    reading.catch((error: unknown) => `(unreadable: ${(error as Error).message})`),
    new Promise<string>((resolve) => setTimeout(() => resolve(`(no answer in ${PAGE_TIMEOUT_MS / 1000} s)`), PAGE_TIMEOUT_MS)),
  ]);
}
