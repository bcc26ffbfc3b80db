// Attachment throughput (issue 16): a 100 MiB file sent to a friend through one local EMSG domain
// (one workerd, Miniflare's local R2), next to a plain HTTP copy of the same bytes on loopback.
// `npx tsx bench/attachments.ts` writes its own section of BENCHMARKS.md. Ports 18965/18967.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { twoDomains } from "../scripts/dev-servers.mjs";
import { startWorkerdDomains } from "../scripts/workerd-servers.mjs";
import { EmsgClient } from "../shared/client/client.js";
import type { FileSource } from "../shared/client/attachments.js";
import { MemoryStore } from "../shared/client/store.js";
import { nodeTransport } from "../cli/node-transport.js";
import { ATTACHMENTS_TITLE, withSection } from "./report-sections.js";

const SIZE = 100 * 1_048_576;
const PORT = 18965;
const PLAIN_PORT = 18967;
const MIB = 1_048_576;

const rate = (bytes: number, ms: number) => bytes / MIB / (ms / 1000);

/** CPU time (ms) of this process's descendants, the local domain's workerd among them, from /proc. */
function serverCpuMs(): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // Gone since the directory was read.
    }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (ours.has(pid) || !ours.has(p.ppid)) continue;
      ours.add(pid);
      grew = true;
    }
  }
  ours.delete(process.pid);
  // Clock ticks are 10 ms on Linux.
  return [...ours].reduce((sum, pid) => sum + procs.get(pid)!.ticks * 10, 0);
}

const clientCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface Timed<T> {
  value: T;
  ms: number;
  /** CPU ms of this process (the client core) and of the server's processes meanwhile. */
  clientCpu: number;
  serverCpu: number;
}

async function timed<T>(step: () => Promise<T>): Promise<Timed<T>> {
  const [client, server] = [clientCpuMs(), serverCpuMs()];
  const start = performance.now();
  const value = await step();
  return { value, ms: performance.now() - start, clientCpu: clientCpuMs() - client, serverCpu: serverCpuMs() - server };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The same bytes PUT to and GET from a Node HTTP server that keeps them in memory: the floor. */
async function plainCopy(bytes: Uint8Array): Promise<{ upMs: number; downMs: number }> {
  let held = Buffer.alloc(0);
  const server = createServer((req, res) => {
    if (req.method === "PUT") {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        held = Buffer.concat(parts);
        res.writeHead(204).end();
      });
    } else res.writeHead(200, { "content-length": held.length }).end(held);
  });
  await new Promise<void>((r) => server.listen(PLAIN_PORT, "127.0.0.1", r));
  try {
    const up = await timed(() => fetch(`http://127.0.0.1:${PLAIN_PORT}/blob`, { method: "PUT", body: bytes as Uint8Array<ArrayBuffer> }));
    const down = await timed(async () => new Uint8Array(await (await fetch(`http://127.0.0.1:${PLAIN_PORT}/blob`)).arrayBuffer()));
    if (down.value.length !== bytes.length) throw new Error("the plain copy lost bytes");
    return { upMs: up.ms, downMs: down.ms };
  } finally {
    server.close();
  }
}

type Transfer = Omit<Timed<unknown>, "value">;

async function emsgCopy(bytes: Uint8Array): Promise<{ up: Transfer; down: Transfer }> {
  const persistRoot = await mkdtemp(join(tmpdir(), "emsg-bench-att-"));
  const [domain] = twoDomains(PORT, PORT + 1000);
  const running = await startWorkerdDomains({ domains: [domain!], persistRoot });
  try {
    const make = () => new EmsgClient({ store: new MemoryStore(), transport: nodeTransport, resolve: running.resolve });
    const alice = make();
    const bob = make();
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.alice.test");
    await alice.sendFriendRequest("bob#im.alice.test");
    await until("the request", async () => (await bob.sync(), (await bob.friends()).some((f) => f.state === "incoming") || undefined));
    await bob.acceptFriend("alice#im.alice.test");
    await until("the accept", async () => (await alice.sync(), (await alice.friends()).some((f) => f.state === "friend") || undefined));
    const source: FileSource = { name: "big.bin", mediaType: "application/octet-stream", size: bytes.length, read: async (o, n) => bytes.subarray(o, o + n) };
    const up = await timed(() => alice.sendFile("bob#im.alice.test", source));
    const message = await until("the pointer", async () => {
      await bob.sync();
      return (await bob.history("alice#im.alice.test")).find((m) => m.attachment?.name === "big.bin");
    });
    const down = await timed(() => bob.downloadAttachment(message.id));
    if (Buffer.compare(down.value, bytes) !== 0) throw new Error("EMSG changed the file");
    const { value: _sent, ...upload } = up;
    const { value: _got, ...download } = down;
    return { up: upload, down: download };
  } finally {
    await running.stopAll();
    await rm(persistRoot, { recursive: true, force: true });
  }
}

function section(emsg: { up: Transfer; down: Transfer }, plain: { upMs: number; downMs: number }): string {
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const perMib = (ms: number) => (ms / (SIZE / MIB)).toFixed(0);
  const row = (what: string, e: Transfer, p: number) =>
    `| ${what} | ${rate(SIZE, e.ms).toFixed(1)} | ${rate(SIZE, p).toFixed(1)} | ${(e.ms / 1000).toFixed(1)} s | ${perMib(e.clientCpu)} | ${perMib(e.serverCpu)} |`;
  return [
    ATTACHMENTS_TITLE,
    "",
    `Measured ${new Date().toISOString().slice(0, 19)}Z with \`npx tsx bench/attachments.ts\`, EMSG at commit ${commit}, on ${cpus().length} cores shared with other work.`,
    "EMSG: a 100 MiB file from alice to bob on one local domain (one workerd, Miniflare's local R2 on disk), through the client core in Node:",
    "upload is sealing (AES-256-GCM in 64 KiB chunks, SHA-256) and sending 5 MiB signed parts until the blob is complete; download is",
    "fetching 8 MiB ranges and checking every tag and the hash. Plain: the same bytes PUT to and GET from a Node HTTP server on loopback",
    "that keeps them in memory, with fetch. Higher is better. CPU: milliseconds per MiB on the client (this Node process: sealing or",
    "opening, hashing, signing, HTTP) and on the server (workerd with Miniflare's local R2), read from /proc; the machine's load",
    "moves the MiB/s far more than the CPU per MiB.",
    "",
    "| 100 MiB file | EMSG, MiB/s | plain HTTP, MiB/s | EMSG, whole | client CPU, ms/MiB | server CPU, ms/MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    row("upload", emsg.up, plain.upMs),
    row("download", emsg.down, plain.downMs),
  ].join("\n");
}


const bytes = Uint8Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24);
const plain = await plainCopy(bytes);
const emsg = await emsgCopy(bytes);
const text = section(emsg, plain);
console.log(text);
const path = join(process.cwd(), "BENCHMARKS.md");
await writeFile(path, withSection(await readFile(path, "utf8"), text));
