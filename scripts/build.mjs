// `npm run build`: builds the PWA into dist/pwa when pwa/ has a Vite config; otherwise makes sure
// dist/pwa exists, because the Worker serves it as its static assets.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const DIST = join(ROOT, "dist", "pwa");
const VITE_CONFIGS = ["vite.config.ts", "vite.config.mjs", "vite.config.js"];

function buildPwa() {
  const config = VITE_CONFIGS.map((name) => join(ROOT, "pwa", name)).find((path) => existsSync(path));
  if (!config) {
    mkdirSync(DIST, { recursive: true });
    console.log("build: no pwa/vite.config; dist/pwa left as is");
    return;
  }
  console.log("build: building the PWA into dist/pwa");
  const vite = join(ROOT, "node_modules", ".bin", "vite");
  const result = spawnSync(vite, ["build", "--config", config, "--outDir", DIST, "--emptyOutDir"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

buildPwa();
