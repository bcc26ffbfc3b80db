// Builds the browser extension for Chrome and Firefox (MV3) and zips each, with WXT.
// The zips land in dist/extension; the PWA's build copies them to dist/pwa/downloads.
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const EXTENSION_OUT = join(ROOT, "dist", "extension");

/** Each browser's WXT target, its unpacked folder and its package (named in extension/wxt.config.ts). */
export const EXTENSION_BUILDS = /** @type {const} */ ([
  { browser: "chrome", label: "Chrome", args: [], unpacked: join(EXTENSION_OUT, "chrome-mv3"), zip: "emsg-extension-chrome.zip" },
  { browser: "firefox", label: "Firefox", args: ["-b", "firefox", "--mv3"], unpacked: join(EXTENSION_OUT, "firefox-mv3"), zip: "emsg-extension-firefox.zip" },
]);

/** @param {readonly string[]} args */
function run(args) {
  return new Promise(/** @param {(value?: void) => void} done @param {(error: Error) => void} fail */ (done, fail) => {
    const wxt = spawn(join(ROOT, "node_modules", ".bin", "wxt"), args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    for (const stream of [wxt.stdout, wxt.stderr]) stream.on("data", (chunk) => (output += chunk));
    wxt.on("error", fail);
    wxt.on("exit", (code) => (code === 0 ? done() : fail(new Error(`wxt ${args.join(" ")} failed:\n${output}`))));
  });
}

/** One after the other: both would write WXT's generated files in extension/.wxt at once. */
export async function buildExtensions() {
  for (const build of EXTENSION_BUILDS) {
    await run(["zip", "extension", ...build.args]);
    console.log(`build: ${build.label} extension → dist/extension/${build.zip}`);
  }
}
