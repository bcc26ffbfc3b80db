// Starts and stops local EMSG domains, one `wrangler dev` each, federated through a resolver map.
// Used by `npm start` and by the end-to-end tests' global setup (with other ports and a temp dir).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

/** The resolver map every domain is started with: `d1=http://127.0.0.1:p1,d2=…`. */
export function resolverMap(domains) {
  return domains.map((d) => `${d.domain}=http://127.0.0.1:${d.port}`).join(",");
}

function wranglerArgs(d, persistRoot, resolve) {
  return [
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(d.port),
    "--inspector-port", String(d.inspectorPort),
    "--persist-to", join(persistRoot, d.name),
    "--var", `EMSG_DOMAIN:${d.domain}`,
    "--var", `EMSG_RESOLVE:${resolve}`,
    "--show-interactive-dev-session=false",
  ];
}

function spawnOne(d, persistRoot, resolve, onLine) {
  mkdirSync(join(persistRoot, d.name), { recursive: true });
  // A process group of its own, so stopping it also stops the workerd it starts.
  const proc = spawn(WRANGLER, wranglerArgs(d, persistRoot, resolve), {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
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

async function waitReady(origin, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`wrangler dev for ${origin} exited with code ${proc.exitCode}`);
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
 * `domains`: [{ name, domain, port, inspectorPort }]; `onLine(domain, line)` gets every output line.
 */
export async function startDomains({ domains, persistRoot, onLine = () => {}, timeoutMs = 90_000 }) {
  const resolve = resolverMap(domains);
  const running = new Map();
  const start = async (d) => {
    const proc = spawnOne(d, persistRoot, resolve, onLine);
    running.set(d.domain, proc);
    await waitReady(`http://127.0.0.1:${d.port}`, proc, timeoutMs);
  };
  const stopAll = () => Promise.all([...running.values()].map((p) => stopProcess(p)));
  try {
    await Promise.all(domains.map(start));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    resolve,
    origins: Object.fromEntries(domains.map((d) => [d.domain, `http://127.0.0.1:${d.port}`])),
    /** Stops one domain (as a crash would, with SIGKILL when `hard`). */
    async stop(domain, { hard = false } = {}) {
      const proc = running.get(domain);
      if (proc) await stopProcess(proc, hard ? { signal: "SIGKILL" } : {});
    },
    /** Starts a stopped domain again on the same port and storage. */
    async restart(domain) {
      const d = domains.find((x) => x.domain === domain);
      await this.stop(domain);
      await start(d);
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
