// What a browser test's pages and servers said, kept for when a test fails: a failure seen once in
// a full run then tells which side stalled (a warning of the client core, a server's error) instead
// of only the locator that timed out.
import type { BrowserContext } from "playwright-core";
import { afterEach } from "vitest";

const KEPT = 600;
const lines: string[] = [];
// The PWA's files, served as it loads: many lines, none telling.
const STATIC = /\[wrangler:info\] GET \/(assets|icons)\//;

export function remember(source: string, line: string): void {
  if (STATIC.test(line)) return;
  lines.push(`${new Date().toISOString().slice(11, 23)} [${source}] ${line}`);
  if (lines.length > KEPT) lines.splice(0, lines.length - KEPT);
}

/** A server's output line (startDomains' `onLine`), marked with its domain's name. */
export function rememberServer(d: { name: string }, line: string): void {
  remember(d.name, line);
}

/** Keeps the warnings and errors of every page of `context`, each marked with `name`. */
export function watchContext(context: BrowserContext, name: string): void {
  context.on("console", (message) => {
    const type = message.type();
    if (type === "warning" || type === "error") remember(name, `${type}: ${message.text()}`);
  });
  context.on("weberror", (error) => remember(name, `page error: ${error.error().message}`));
}

// Registered by the browser project's setup file, so every browser test file has it.
export function printOnFailure(): void {
  afterEach(({ task }) => {
    if (task.result?.state !== "fail" || lines.length === 0) return;
    console.error(`What the pages and servers said before "${task.name}" failed (last ${lines.length} lines):\n${lines.join("\n")}`);
  });
}
