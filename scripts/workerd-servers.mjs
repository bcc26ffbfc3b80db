// Starts and stops local EMSG domains as ONE workerd process each, through Miniflare (the library
// `wrangler dev` runs the Worker with), serving the Worker straight on its port. `wrangler dev` puts
// a second, reloading proxy workerd in front that re-fetches every request and pipes every
// WebSocket frame; a deployment has no such proxy, so the benchmark runs without it.
// The Worker is bundled once as `wrangler deploy` would, its options come from wrangler.toml.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { ensureFree, launch, resolverMap, waitFree, waitReady } from "./dev-servers.mjs";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const CONFIG = join(ROOT, "wrangler.toml");
const WRANGLER_CLI = join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js");
// No metrics, no update check (the banner's): bundling stays offline.
const OFFLINE = { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

/** Bundles the Worker into the directory `out` as `wrangler deploy` would upload it. */
export function bundleWorkerInto(out) {
  // wrangler checks that the [assets] directory exists; the Worker runs here without it.
  mkdirSync(join(ROOT, "dist", "pwa"), { recursive: true });
  try {
    execFileSync(process.execPath, ["--no-warnings", WRANGLER_CLI, "deploy", "--dry-run", "--outdir", out, "--config", CONFIG], {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join("\n").trim();
    throw new Error(`bundling the Worker failed: ${error.message}${output ? `\n${output}` : ""}`);
  }
}

/** The ES modules of a bundle in `dir`, entry first, read now (so the directory may go). */
function modulesIn(dir) {
  const files = readdirSync(dir).filter((f) => /\.m?js$/.test(f)).sort((a, b) => Number(b === "index.js") - Number(a === "index.js"));
  if (files[0] !== "index.js") throw new Error(`the Worker's bundle in ${dir} has no index.js`);
  // Module names are paths relative to the Worker's root.
  return files.map((name) => ({ type: "ESModule", path: join(ROOT, name), contents: readFileSync(join(dir, name), "utf8") }));
}

/** The Worker as `wrangler deploy` uploads it: from `bundle` (a directory bundleWorkerInto filled), else bundled now. */
function workerModules(bundle) {
  if (bundle) return modulesIn(bundle);
  const out = mkdtempSync(join(tmpdir(), "emsg-worker-bundle-"));
  try {
    bundleWorkerInto(out);
    return modulesIn(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * wrangler.toml as Miniflare worker options (compatibility date and flags, Durable Object classes
 * with SQLite, vars), as `wrangler dev` reads it. Without [assets]: the Worker serves every path.
 */
function workerFromConfig(withAssets) {
  const config = unstable_readConfig({ config: CONFIG }, { hideWarnings: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const { assets, modulesRules: _rules, rootPath: _root, ...options } = workerOptions;
  return { name: config.name, ...options, ...(withAssets ? { assets } : {}) };
}

/** Passes each output line of Miniflare itself (crash warnings, errors) to `emit`. */
class LineLog extends Log {
  constructor(emit) {
    super(LogLevel.INFO);
    this.emit = emit;
  }
  logWithLevel(level, message) {
    if (level <= this.level) for (const line of String(message).split("\n")) this.emit(`[miniflare:${LogLevel[level].toLowerCase()}] ${line}`);
  }
}

// Miniflare lets a Worker's outbound fetch go to any address. This gate, a second Worker in the same
// workerd, carries it instead, over a network service that only reaches loopback addresses: federation
// to the other local domains works, nothing else leaves the machine.
const gate = (compatibilityDate) => ({
  name: "loopback-gate",
  compatibilityDate,
  modules: [{ type: "ESModule", path: "loopback-gate.mjs", contents: "export default { fetch: (request, env) => env.LOOPBACK.fetch(request) };" }],
  serviceBindings: { LOOPBACK: { network: { allow: ["local"], deny: [] } } },
});

function miniflareOptions(d, { modules, worker, persistRoot, resolve, onLine, logRequests }) {
  const emit = (line) => onLine(d, line);
  const loopbackGate = gate(worker.compatibilityDate);
  return convertV4MiniflareOptions({
    host: "127.0.0.1",
    // Miniflare's own entry worker logs each request, on the domain's port; else it takes a port of
    // its choosing and clients use the Worker's own socket below.
    port: logRequests ? d.port : 0,
    ...(d.inspectorPort ? { inspectorPort: d.inspectorPort, inspectorHost: "127.0.0.1" } : {}),
    // The layout of `wrangler dev --persist-to persistRoot/name`.
    resourcePersistencePath: join(persistRoot, d.name, "v3"),
    // Loopback only: no `Request.cf` fetched from the internet, no telemetry, no dev registry.
    cf: false,
    telemetry: { enabled: false },
    enableDevRegistry: false,
    logRequests,
    log: new LineLog(emit),
    handleStructuredLogs: ({ message }) => {
      for (const line of message.split("\n")) emit(line);
    },
    workers: [
      {
        ...worker,
        rootPath: ROOT,
        modules,
        bindings: {
          ...worker.bindings,
          EMSG_DOMAIN: d.domain,
          EMSG_RESOLVE: resolve,
          ...(process.env.EMSG_RATE ? { EMSG_RATE: process.env.EMSG_RATE } : {}),
          ...(process.env.EMSG_COUNT_CALLS ? { EMSG_COUNT_CALLS: process.env.EMSG_COUNT_CALLS } : {}),
          ...(process.env.EMSG_OUTBOX_SHARDS ? { EMSG_OUTBOX_SHARDS: process.env.EMSG_OUTBOX_SHARDS } : {}),
        },
        outboundService: loopbackGate.name,
        // The Worker itself listens on the domain's port, without Miniflare's entry worker in front.
        ...(logRequests ? {} : { unsafeDirectSockets: [{ host: "127.0.0.1", port: d.port }] }),
      },
      loopbackGate,
    ],
  });
}

/**
 * Starts every domain, one Miniflare (one workerd process) each, and waits until each serves its
 * discovery document. Same arguments and result as `startDomains` in dev-servers.mjs; storage under
 * `persistRoot/<name>`; `EMSG_RATE`, `EMSG_COUNT_CALLS` and `EMSG_OUTBOX_SHARDS` from the environment. Stopping a domain always kills its
 * workerd at once (Miniflare does so with SIGKILL), so `hard` changes nothing. `bundle`: a directory
 * bundleWorkerInto filled (a test run bundles once, not at every start); `logRequests`: a line for
 * each request, as `wrangler dev` prints, through Miniflare's entry worker (one hop more); `assets`:
 * the PWA's build served beside the API as wrangler.toml's [assets] says (through that entry too).
 */
export async function startWorkerdDomains({ domains, persistRoot, onLine = () => {}, timeoutMs = 90_000, extraResolve = {}, bundle, logRequests = false, assets = false }) {
  const resolve = resolverMap(domains, extraResolve);
  const shared = { modules: workerModules(bundle), worker: workerFromConfig(assets), persistRoot, resolve, onLine, logRequests: logRequests || assets };
  const running = new Map();
  const start = async (d) => {
    await ensureFree(d.port);
    if (d.inspectorPort) await ensureFree(d.inspectorPort);
    mkdirSync(join(persistRoot, d.name), { recursive: true });
    const mf = new Miniflare(miniflareOptions(d, shared));
    running.set(d.domain, mf);
    await mf.ready;
    await waitReady(`http://127.0.0.1:${d.port}`, timeoutMs);
  };
  return launch(domains, resolve, {
    start,
    /** Its workerd is killed, as in a crash. */
    async stop(domain) {
      const mf = running.get(domain);
      running.delete(domain);
      if (!mf) return;
      await mf.dispose();
      // dispose() can return before the killed workerd has exited: a restart right after found
      // its port still taken (fed-dedupe-restart, once in a full run).
      const d = domains.find((x) => x.domain === domain);
      for (const port of [d.port, d.inspectorPort].filter(Boolean)) await waitFree(port);
    },
  });
}
