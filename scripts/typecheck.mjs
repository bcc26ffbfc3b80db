// `npm run typecheck`: every tsconfig.json in the repository (root, worker, PWA, extension, ui,
// worker tests, scripts…), each with its own settings, so a new config is covered without a list.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
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
  const queue = tsconfigs();
  /** @type {string[]} */
  const failed = [];
  // As many tsc at once as the machine has cores: each is single-threaded. A config's output is
  // printed whole when it ends, so two never interleave.
  const lane = async () => {
    for (let config = queue.shift(); config !== undefined; config = queue.shift()) {
      const child = spawn(process.execPath, [tsc, "-p", config, "--noEmit"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      /** @type {Buffer[]} */
      const output = [];
      child.stdout.on("data", (chunk) => output.push(chunk));
      child.stderr.on("data", (chunk) => output.push(chunk));
      const status = await new Promise((done) => child.on("close", done));
      process.stdout.write(`typecheck: ${config}\n${Buffer.concat(output).toString()}`);
      if (status !== 0) failed.push(config);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, lane));
  if (failed.length > 0) {
    console.error(`typecheck: errors in ${failed.sort().join(", ")}`);
    process.exit(1);
  }
}
