// The servers run from a copy of the work tree taken when the benchmark starts: `wrangler dev`
// reloads on every source change, which would drop sockets mid-run in a tree people are editing.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const SKIP = new Set([".git", "node_modules", "dist", ".state", ".wrangler", "test-artifacts", ".output", ".wxt"]);

/** Copies `root` (sources, config, scripts) into a temp dir, sharing its node_modules. */
export function snapshotTree(root: string): string {
  const dir = mkdtempSync(join(tmpdir(), "emsg-bench-tree-"));
  cpSync(root, dir, { recursive: true, filter: (path) => !SKIP.has(relative(root, path).split("/")[0]!) });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  // wrangler.toml serves the PWA from dist/pwa; the benchmark needs none of it, only the directory.
  mkdirSync(join(dir, "dist", "pwa"), { recursive: true });
  return dir;
}

/** `abc1234` or `abc1234 + uncommitted changes`: which code the figures belong to. */
export function describeTree(root: string): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "worker", "shared", "wrangler.toml", "scripts"], { cwd: root, encoding: "utf8" }).trim();
    return dirty ? `commit ${head} + uncommitted changes` : `commit ${head}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}
