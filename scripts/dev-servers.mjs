// Starts and stops local EMSG domains, one `wrangler dev` each, federated through a resolver map.
// Used by `npm start` and by the end-to-end tests' global setup (with other ports and a temp dir).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
// wrangler's bin script refuses Node 20, but its CLI itself runs there; call the CLI directly.
const WRANGLER_CLI = join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js");

/** The resolver map every domain is started with: `d1=http://127.0.0.1:p1,d2=…`, plus any extra entries. */
export function resolverMap(domains, extra = {}) {
  const entries = [...domains.map((d) => [d.domain, `http://127.0.0.1:${d.port}`]), ...Object.entries(extra)];
  return entries.map(([domain, origin]) => `${domain}=${origin}`).join(",");
}

function wranglerArgs(d, persistRoot, resolve, assets) {
  return [
    "--no-warnings",
    WRANGLER_CLI,
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(d.port),
    "--inspector-port", String(d.inspectorPort),
    "--persist-to", join(persistRoot, d.name),
    "--var", `EMSG_DOMAIN:${d.domain}`,
    "--var", `EMSG_RESOLVE:${resolve}`,
    "--show-interactive-dev-session=false",
    ...(assets ? ["--assets", assets] : []),
  ];
}

// wrangler dev's local trace store and data explorer: every invocation of the Worker and its
// Durable Objects is streamed to a collector that writes it to SQLite, a fifth of the CPU under
// load. Only `npm start` keeps them, for a developer to look into; tests and measurements have no
// use for them, and a deployment has neither.
const NO_TRACE_STORE = { X_LOCAL_OBSERVABILITY: "false", X_LOCAL_EXPLORER: "false" };

function spawnOne(d, persistRoot, resolve, onLine, traceStore, assets) {
  mkdirSync(join(persistRoot, d.name), { recursive: true });
  // wrangler refuses to start without the assets directory; the API needs no PWA build to run.
  mkdirSync(join(ROOT, "dist", "pwa"), { recursive: true });
  // A process group of its own, so stopping it also stops the workerd it starts.
  const proc = spawn(process.execPath, wranglerArgs(d, persistRoot, resolve, assets), {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Loopback only: no metrics, and no fetching of the `Request.cf` placeholder from the internet.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0", ...(traceStore ? {} : NO_TRACE_STORE) },
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    let rest = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) onLine(d, line);
    });
  }
  return proc;
}

/** Whether nothing listens on 127.0.0.1:`port` now. */
function isFree(port) {
  return new Promise((ok) => {
    const probe = createServer();
    probe.once("error", () => ok(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => ok(true)));
  });
}

/** Refuses a port something else listens on: waiting for it to answer would talk to a stranger's server. */
export async function ensureFree(port) {
  if (!(await isFree(port))) throw new Error(`127.0.0.1:${port} is already in use; stop what runs there or pick other ports`);
}

/** Waits until a server we stopped has let go of `port` (a killed process's sockets close as it exits). */
export async function waitFree(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await isFree(port))) {
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} is still in use ${timeoutMs / 1000} s after its server was stopped`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `origin` serves its discovery document; `failed()` names a reason to stop waiting early. */
export async function waitReady(origin, timeoutMs, failed = () => undefined) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = failed();
    if (reason) throw new Error(reason);
    try {
      const res = await fetch(`${origin}/.well-known/emsg`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${origin}/.well-known/emsg did not answer within ${timeoutMs / 1000} s`);
}

function stopProcess(proc, { graceMs = 5000, signal = "SIGTERM" } = {}) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = (signal) => {
      try {
        process.kill(-proc.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    proc.once("exit", () => {
      clearTimeout(timer);
      // workerd may outlive wrangler for a moment; make sure the whole group is gone.
      kill("SIGKILL");
      done();
    });
    kill(signal);
  });
}

/**
 * Starts every domain and waits until each serves its discovery document.
 * `domains`: [{ name, domain, port, inspectorPort }]; `onLine(domain, line)` gets every output line;
 * `extraResolve`: more `{ domain: origin }` entries for the resolver map (e.g. a test's own peer);
 * `traceStore: true` keeps wrangler's local trace store and data explorer (for `npm start`);
 * `assets`: the directory of the PWA's build to serve, instead of wrangler.toml's (dist/pwa).
 */
export async function startDomains({ domains, persistRoot, onLine = () => {}, timeoutMs = 90_000, extraResolve = {}, traceStore = false, assets }) {
  const resolve = resolverMap(domains, extraResolve);
  const running = new Map();
  const start = async (d) => {
    await ensureFree(d.port);
    await ensureFree(d.inspectorPort);
    const proc = spawnOne(d, persistRoot, resolve, onLine, traceStore, assets);
    running.set(d.domain, proc);
    const origin = `http://127.0.0.1:${d.port}`;
    await waitReady(origin, timeoutMs, () => (proc.exitCode === null ? undefined : `wrangler dev for ${origin} exited with code ${proc.exitCode}`));
  };
  // If this process ends without stopping them (a test runner killed), take the servers along.
  process.once("exit", () => {
    for (const proc of running.values()) {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  return launch(domains, resolve, {
    start,
    /** As a crash would, with SIGKILL when `hard`. */
    async stop(domain, { hard = false } = {}) {
      const proc = running.get(domain);
      if (!proc) return;
      await stopProcess(proc, hard ? { signal: "SIGKILL" } : {});
      // The group's workerd may still hold its ports when wrangler has exited: a restart right
      // after a kill found its own port taken (fed-dedupe-restart, twice in full runs).
      const d = domains.find((x) => x.domain === domain);
      for (const port of [d.port, d.inspectorPort].filter(Boolean)) await waitFree(port);
    },
  });
}

/**
 * Starts every domain with `start(d)` (all stopped again should one fail) and returns what both
 * launchers give: the resolver map, the origins, and stop/restart/stopAll through `stop(domain)`.
 */
export async function launch(domains, resolve, { start, stop }) {
  const stopAll = () => Promise.all(domains.map((d) => stop(d.domain)));
  try {
    await Promise.all(domains.map(start));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    resolve,
    origins: Object.fromEntries(domains.map((d) => [d.domain, `http://127.0.0.1:${d.port}`])),
    stop,
    /** Starts a stopped domain again on the same port and storage. */
    async restart(domain) {
      await stop(domain);
      await start(domains.find((d) => d.domain === domain));
    },
    stopAll,
  };
}

/** The two domains of local development; `base` shifts the ports (8787 for `npm start`). */
export function twoDomains(base = 8787, inspectorBase = 9229) {
  return [
    { name: "alice", domain: "im.alice.test", port: base, inspectorPort: inspectorBase },
    { name: "bob", domain: "im.bob.test", port: base + 1, inspectorPort: inspectorBase + 1 },
  ];
}
