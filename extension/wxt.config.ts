import { resolve } from "node:path";
import { defineConfig } from "wxt";
import { quietDependencyLogs } from "../ui/dependency-logs.js";

const ICONS = resolve(import.meta.dirname, "../pwa/public/icons");

// Built with `wxt build extension` from the repository root: the root is this folder.
export default defineConfig({
  srcDir: ".",
  outDir: "../dist/extension",
  // Explicit imports only: the same files type-check with plain tsc and run in unit tests.
  imports: false,
  // `npm run build` serves these from every domain's Worker as /downloads/…; no sources zip.
  zip: { artifactTemplate: "emsg-extension-{{browser}}.zip", zipSources: false },
  hooks: {
    "build:publicAssets": (_wxt, assets) => {
      assets.push(
        { absoluteSrc: resolve(ICONS, "favicon-32.png"), relativeDest: "icon-32.png" },
        { absoluteSrc: resolve(ICONS, "icon-192.png"), relativeDest: "icon-192.png" },
      );
    },
  },
  vite: () => ({
    esbuild: { jsx: "automatic", jsxImportSource: "preact" },
    build: { sourcemap: false, rollupOptions: { onLog: quietDependencyLogs } },
  }),
  manifest: ({ browser }) => ({
    name: "EMSG",
    version: "0.1.0",
    icons: { 32: "/icon-32.png", 192: "/icon-192.png" },
    description: "End-to-end-encrypted messaging that works like e-mail, and adds EMSG friends from any web page or web messenger.",
    // Least privilege: see README.md for why each one is needed.
    // Chrome's unlimitedStorage keeps the IndexedDB store from eviction under disk pressure (no install warning there).
    permissions: ["storage", "contextMenus", "alarms", "notifications", ...(browser === "firefox" ? [] : ["unlimitedStorage"])],
    content_security_policy: {
      extension_pages:
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
        "img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
        "connect-src https: wss: http://127.0.0.1:* ws://127.0.0.1:*",
    },
    ...(browser === "firefox"
      ? { browser_specific_settings: { gecko: { id: "emsg@emsg.im", strict_min_version: "128.0" } } }
      : { minimum_chrome_version: "116" }),
  }),
});
