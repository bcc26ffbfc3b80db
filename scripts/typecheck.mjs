// `npm run typecheck`: every tsconfig.json in the repository (root, worker, PWA, extension, ui,
// worker tests, scripts…), each with its own settings, so a new config is covered without a list.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
/** Installed packages, build output and WXT's generated config are not ours to check. */
const SKIPPED = new Set(["node_modules", "dist", ".wxt", ".output", ".state", ".wrangler", "test-artifacts", ".git"]);

/** @param {string} dir @returns {string[]} */
export function tsconfigs(dir = ROOT) {
  /** @type {string[]} */
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...tsconfigs(path));
    else if (entry.name === "tsconfig.json") found.push(relative(ROOT, path));
  }
  return found.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const failed = tsconfigs().filter((config) => {
    console.log(`typecheck: ${config}`);
    return spawnSync(process.execPath, [tsc, "-p", config, "--noEmit"], { cwd: ROOT, stdio: "inherit" }).status !== 0;
  });
  if (failed.length > 0) {
    console.error(`typecheck: errors in ${failed.join(", ")}`);
    process.exit(1);
  }
}
