// `npm run build`: the browser extension (Chrome and Firefox, zipped) into dist/extension, then the
// PWA into dist/pwa with the zips under downloads/: the Worker serves dist/pwa as its static assets.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildExtensions } from "./extension-build.mjs";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DIST = join(ROOT, "dist", "pwa");

function buildPwa() {
  console.log("build: building the PWA into dist/pwa");
  const vite = join(ROOT, "node_modules", ".bin", "vite");
  const result = spawnSync(vite, ["build", "--config", join(ROOT, "pwa", "vite.config.ts"), "--outDir", DIST, "--emptyOutDir", "--logLevel", "warn"], {
    cwd: ROOT,
    stdio: "inherit",
    // Under a test runner NODE_ENV is "test", which would leave out the service worker.
    env: { ...process.env, NODE_ENV: "production" },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

try {
  await buildExtensions();
} catch (error) {
  console.error(`build: ${/** @type {Error} */ (error).message}`);
  process.exit(1);
}
buildPwa();
