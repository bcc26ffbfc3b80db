import { defineConfig } from "vite";
import preact from "@preact/preset-vite";
import { VitePWA } from "vite-plugin-pwa";
import { fileURLToPath } from "node:url";
import { quietDependencyLogs } from "../ui/dependency-logs.js";
import { extensionDownloads } from "./extension-downloads.js";

const root = fileURLToPath(new URL(".", import.meta.url));

// During `vite dev` the API and discovery document come from the local alice domain.
const devApi = process.env.EMSG_DEV_API ?? "http://127.0.0.1:8787";

export default defineConfig({
  root,
  publicDir: "public",
  plugins: [
    preact(),
    extensionDownloads(fileURLToPath(new URL("../dist/extension", import.meta.url))),
    VitePWA({
      registerType: "autoUpdate",
      injectRegister: false,
      includeAssets: ["icons/favicon-32.png", "icons/apple-touch-icon.png"],
      manifest: {
        name: "EMSG",
        short_name: "EMSG",
        description: "Private messages that work like e-mail: name#server, end-to-end encrypted.",
        id: "/",
        start_url: "/",
        scope: "/",
        display: "standalone",
        // `web+emsg:alice%23im.example.com` links open the app with the friend form filled in.
        protocol_handlers: [{ protocol: "web+emsg", url: "/?add=%s" }],
        background_color: "#f6f8f8",
        theme_color: "#0f7f80",
        icons: [
          { src: "icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        globPatterns: ["**/*.{js,css,html,png,svg,webmanifest}"],
        navigateFallback: "/index.html",
        // The API, discovery and downloads must always reach the server, never the app-shell cache.
        navigateFallbackDenylist: [/^\/emsg\//, /^\/\.well-known\//, /^\/downloads\//],
        importScripts: ["notification-click.js"],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  build: {
    outDir: fileURLToPath(new URL("../dist/pwa", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { onLog: quietDependencyLogs },
  },
  server: {
    proxy: {
      "/emsg": { target: devApi, ws: true },
      "/.well-known": devApi,
    },
  },
});
