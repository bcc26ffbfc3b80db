// `npm start`: builds, then runs two federated local domains on loopback until Ctrl-C.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startDomains, twoDomains } from "./dev-servers.mjs";
import { EXTENSION_BUILDS, EXTENSION_OUT } from "./extension-build.mjs";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

function build() {
  const result = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** @param {string} origin */
function extensionHelp(origin) {
  const [chrome, firefox] = EXTENSION_BUILDS;
  const local = (/** @type {string} */ path) => relative(ROOT, path);
  return `The browser extension (Chrome and Firefox, MV3), also linked from the PWA's Settings:
  ${chrome.label.padEnd(8)} ${origin}/downloads/${chrome.zip}   file: ${local(join(EXTENSION_OUT, chrome.zip))}
  ${firefox.label.padEnd(8)} ${origin}/downloads/${firefox.zip}  file: ${local(join(EXTENSION_OUT, firefox.zip))}
  Load it in Chrome: chrome://extensions → turn on Developer mode → Load unpacked → choose
    ${local(chrome.unpacked)} (or the folder you unzipped the download into).
  Load it in Firefox: about:debugging#/runtime/this-firefox → Load Temporary Add-on… → choose
    ${local(join(EXTENSION_OUT, firefox.zip))}, or manifest.json in ${local(firefox.unpacked)}.
  In its setup, give an address on a local domain and that domain's URL above as its server.`;
}

/** @param {import("./dev-servers.mjs").RunningDomains} running */
function printWelcome(running) {
  const [alice, bob] = Object.values(running.origins);
  if (!alice || !bob) throw new Error("both domains should be running");
  const env = `EMSG_RESOLVE=${running.resolve}`;
  console.log(`
EMSG is running:
  im.alice.test  ${alice}
  im.bob.test    ${bob}

Open either URL for the PWA.

${extensionHelp(alice)}

Try the command-line client in another terminal:
  export ${env}
  npm run cli -- --state .state/cli-alice register alice#im.alice.test
  npm run cli -- --state .state/cli-bob register bob#im.bob.test
  npm run cli -- --state .state/cli-alice add bob#im.bob.test "hi, it's Alice"
  npm run cli -- --state .state/cli-bob requests
  npm run cli -- --state .state/cli-bob accept alice#im.alice.test
  npm run cli -- --state .state/cli-alice send bob#im.bob.test Hello Bob
  npm run cli -- --state .state/cli-bob read alice#im.alice.test

Ctrl-C stops both servers.`);
}

/**
 * A copy of the PWA's build for the servers to serve: `wrangler dev` reloads, closing every
 * socket, when the directory it serves changes, and the browser tests rebuild dist/pwa.
 */
function snapshotPwa() {
  const copy = join(ROOT, ".state", "pwa");
  rmSync(copy, { recursive: true, force: true });
  cpSync(join(ROOT, "dist", "pwa"), copy, { recursive: true });
  return copy;
}

async function main() {
  build();
  const verbose = process.argv.includes("--verbose");
  const running = await startDomains({
    domains: twoDomains(),
    persistRoot: join(ROOT, ".state"),
    assets: snapshotPwa(),
    traceStore: true,
    onLine: (d, line) => {
      if (verbose || /error|exception|ready on/i.test(line)) console.log(`[${d.domain}] ${line}`);
    },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping both servers…");
    await running.stopAll();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  printWelcome(running);
}

main().catch((error) => {
  console.error(`start: ${error.message}`);
  process.exit(1);
});
