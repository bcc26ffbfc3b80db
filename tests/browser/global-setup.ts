import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * The real `npm run build`, once for every browser test: both extensions (unpacked and zipped) and
 * the PWA with the zips under downloads/. Each file building its own took ~8 s a build, ~25 times.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, "../..");
  mkdirSync(join(root, "test-artifacts"), { recursive: true });
  try {
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed before the browser tests:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}
