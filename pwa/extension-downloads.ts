import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Plugin } from "vite";

const PACKAGE = /^emsg-extension-[a-z]+\.zip$/;

/**
 * Copies the browser extension's packages (made by `npm run build` in `dir`) into the PWA's
 * output under downloads/, where each domain's Worker serves them and Settings links to them.
 * Workbox's globPatterns leave .zip out, so the service worker never precaches them.
 */
export function extensionDownloads(dir: string): Plugin {
  return {
    name: "emsg-extension-downloads",
    apply: "build",
    generateBundle() {
      const packages = existsSync(dir) ? readdirSync(dir).filter((name) => PACKAGE.test(name)) : [];
      if (packages.length === 0) this.warn(`no extension packages in ${dir}: the download links answer 404 until npm run build makes them`);
      for (const name of packages) this.emitFile({ type: "asset", fileName: `downloads/${name}`, source: readFileSync(join(dir, name)) });
    },
  };
}
