// The peer server of the comparison: Debian's Prosody, two processes federated over loopback s2s.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, onPath, portIsFree, sleep, stopChild, waitForPort } from "./processes.js";

export const PROSODY_INSTALL = "apt-get install -y prosody";
export const PASSWORD = "bench-password";
/** Prosody finds its peer by DNS and falls back to port 5269, which no config can change per peer. */
const S2S_PORT = 5269;

export interface ProsodyHost {
  domain: string;
  /** The loopback address this host's s2s listens on; each host needs its own for port 5269. */
  s2sAddress: string;
  c2sPort: number;
}

const lua = (text: string) => JSON.stringify(text);

/**
 * The config of one Prosody process serving `host`: plaintext c2s on loopback with PLAIN passwords
 * (the EMSG half also runs without TLS), dialback s2s resolved through `hostsFile`, no HTTP, no
 * offline storage (every receiver is online), no rate limits (mod_limits is not loaded). Nagle's
 * algorithm is off: with Prosody's default (on) each s2s hop waits ~40 ms for a delayed ACK on
 * loopback, which would measure a TCP default rather than the server.
 */
export function prosodyConfig(host: ProsodyHost, dir: string, hostsFile: string): string {
  const own = (name: string) => lua(join(dir, `${host.domain}.${name}`));
  return `-- Written by bench/prosody.ts for one benchmark run.
run_as_root = true
pidfile = ${own("pid")}
data_path = ${own("data")}
admin_socket = ${own("sock")}
certificates = ${lua(dir)}
network_settings = { nagle = false }
log = { { levels = { min = "warn" }, to = "file", filename = ${own("log")} } }
modules_enabled = { "saslauth", "dialback", "admin_shell", "admin_socket" }
modules_disabled = { "offline", "s2s_auth_certs" }
c2s_ports = { ${host.c2sPort} }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { ${S2S_PORT} }
s2s_interfaces = { ${lua(host.s2sAddress)} }
http_ports = { }
https_ports = { }
c2s_direct_tls_ports = { }
s2s_direct_tls_ports = { }
c2s_require_encryption = false
s2s_require_encryption = false
s2s_secure_auth = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
unbound = { hoststxt = ${lua(hostsFile)}, resolvconf = ${lua(join(dir, "resolv.conf"))} }
VirtualHost ${lua(host.domain)}
`;
}

/** An /etc/hosts-format file mapping each host's domain to its s2s address. */
export function hostsFileText(hosts: readonly ProsodyHost[]): string {
  return hosts.map((h) => `${h.s2sAddress} ${h.domain}\n`).join("");
}

interface RunningHost extends ProsodyHost {
  config: string;
  child: ChildProcess;
}

export interface RunningProsody {
  hosts: ProsodyHost[];
  version: string;
  register(domain: string, usernames: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

function run(command: string, args: string[], input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.stdin.end(input);
  });
}

export function prosodyInstalled(): boolean {
  return onPath("prosody") !== undefined && onPath("prosodyctl") !== undefined;
}

async function prosodyVersion(): Promise<string> {
  const about = await run("prosodyctl", ["about"], "", 10_000);
  return /^Prosody (\S+)/m.exec(about)?.[1] ?? "unknown";
}

async function startHost(host: ProsodyHost, dir: string, hostsFile: string): Promise<RunningHost> {
  const config = join(dir, `${host.domain}.cfg.lua`);
  mkdirSync(join(dir, `${host.domain}.data`), { recursive: true });
  writeFileSync(config, prosodyConfig(host, dir, hostsFile));
  const child = spawn("prosody", ["--config", config, "-F"], { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString("utf8")));
  try {
    await waitForPort(host.c2sPort, "127.0.0.1", child, 15_000);
    await waitForPort(S2S_PORT, host.s2sAddress, child, 15_000);
    const socket = join(dir, `${host.domain}.sock`);
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);
  } catch (error) {
    await stopChild(child);
    throw new Error(`prosody for ${host.domain} did not start: ${(error as Error).message}\n${errors}`);
  }
  return { ...host, config, child };
}

/**
 * Starts one Prosody per domain in `dir`. Each listens for clients on a free loopback port and for
 * servers on `s2sAddress`:5269, and finds the other through a hosts file given to its resolver.
 */
export async function startProsody(domains: readonly string[], dir: string): Promise<RunningProsody> {
  const hosts: ProsodyHost[] = [];
  for (const [i, domain] of domains.entries()) {
    const s2sAddress = `127.0.0.${i + 1}`;
    if (!(await portIsFree(S2S_PORT, s2sAddress))) {
      throw new Error(`${s2sAddress}:${S2S_PORT} is taken; Prosody's s2s needs it (is another Prosody running?)`);
    }
    hosts.push({ domain, s2sAddress, c2sPort: await freePort() });
  }
  const hostsFile = join(dir, "hosts");
  writeFileSync(hostsFile, hostsFileText(hosts));
  // No name server: every name the benchmark uses is in the hosts file, so SRV look-ups fail at once.
  writeFileSync(join(dir, "resolv.conf"), "nameserver 127.0.0.1\n");
  const running: RunningHost[] = [];
  const stop = () => Promise.all(running.map((h) => stopChild(h.child))).then(() => undefined);
  try {
    for (const host of hosts) running.push(await startHost(host, dir, hostsFile));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    hosts,
    version: await prosodyVersion(),
    async register(domain, usernames) {
      const host = running.find((h) => h.domain === domain);
      if (!host) throw new Error(`no Prosody serves ${domain}`);
      // One admin shell session creates every account through the running server.
      const script = usernames.map((u) => `user:create(${lua(`${u}@${domain}`)}, ${lua(PASSWORD)})\n`).join("");
      const out = await run("prosodyctl", ["--config", host.config, "shell"], script, 60_000);
      const created = out.match(/OK: User created/g)?.length ?? 0;
      if (created !== usernames.length) throw new Error(`prosodyctl created ${created} of ${usernames.length} users on ${domain}:\n${out.slice(-2000)}`);
    },
    stop,
  };
}
