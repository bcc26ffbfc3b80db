import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { EmsgError } from "../../shared/errors.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { type RunningDomains, twoDomains } from "../../scripts/dev-servers.mjs";
import { startWorkerdDomains } from "../../scripts/workerd-servers.mjs";
import { EmsgClient } from "../../shared/client/client.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";

/** Counts each text `client` shows as received into `shown`: one shown twice counts 2. */
export function countShown(client: EmsgClient, shown: Map<string, number>): void {
  client.on("message", (m) => {
    if (m.direction === "in") shown.set(m.text, (shown.get(m.text) ?? 0) + 1);
  });
}

/**
 * Two real servers (im.alice.test, im.bob.test), each the bundled Worker in a workerd of its own as
 * a deployment runs it (without `wrangler dev`'s reloading proxy), on their own ports and storage.
 */
export interface Pair {
  running: RunningDomains;
  persistRoot: string;
  /** Every line either server printed, prefixed with its domain. */
  logs: string[];
  alice: string;
  bob: string;
  stop(): Promise<void>;
}

export async function startPair(portBase: number, inspectorBase: number, extraResolve: Record<string, string> = {}): Promise<Pair> {
  const persistRoot = await mkdtemp(join(tmpdir(), "emsg-e2e-"));
  const logs: string[] = [];
  const running = await startWorkerdDomains({
    domains: twoDomains(portBase, inspectorBase),
    persistRoot,
    extraResolve,
    bundle: inject("workerBundle"),
    logRequests: true,
    onLine: (d, line) => void logs.push(`[${d.domain}] ${line}`),
  });
  return {
    running,
    persistRoot,
    logs,
    alice: running.origins["im.alice.test"]!,
    bob: running.origins["im.bob.test"]!,
    async stop() {
      await running.stopAll();
      // Kept for whoever has to find out why a run failed; test-artifacts/ is not committed.
      await mkdir("test-artifacts", { recursive: true });
      await writeFile(join("test-artifacts", `e2e-servers-${portBase}.log`), logs.join("\n"));
      await rm(persistRoot, { recursive: true, force: true });
    },
  };
}

const stateDirs: string[] = [];

/** A fresh state directory for a client, removed with the others by removeClientDirs. */
export async function clientDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "emsg-e2e-client-"));
  stateDirs.push(dir);
  return dir;
}

/** A client with the Node adapters and its own state directory, as the CLI runs it. */
export async function newClient(pair: Pair): Promise<{ client: EmsgClient; dir: string }> {
  const dir = await clientDir();
  return { client: reopen(pair, dir), dir };
}

/** A second client over the same state directory: what a restarted app sees. */
export function reopen(pair: Pair, dir: string): EmsgClient {
  const client = new EmsgClient({ store: new FileStore(dir), transport: nodeTransport, resolve: pair.running.resolve });
  clients.push(client);
  return client;
}

const clients: EmsgClient[] = [];

export async function removeClientDirs(): Promise<void> {
  // What a device still had queued (indexing, a send) ends before its folder goes, not on a missing one.
  for (const client of clients.splice(0)) {
    client.disconnect();
    await client.idle().catch(() => undefined);
  }
  // A client may still be writing its last file while it closes: rm retries ENOTEMPTY.
  for (const dir of stateDirs.splice(0)) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** `a` asks `b` to be friends and `b` accepts; returns once both sides hold the friendship. */
export async function befriend(a: EmsgClient, b: EmsgClient, note?: string): Promise<void> {
  await a.sendFriendRequest(b.address, note);
  await until(`${b.address} to see ${a.address}'s request`, async () => {
    await b.sync();
    return (await b.friends()).some((f) => f.address === a.address && f.state === "incoming");
  });
  await b.acceptFriend(a.address);
  await until(`${a.address} to see the accept`, async () => {
    await a.sync();
    return (await a.friends()).some((f) => f.address === b.address && f.state === "friend");
  });
}

/** Connects, retrying while the server is still coming back. */
export function connect(client: EmsgClient, timeoutMs = 30_000): Promise<true> {
  return until("the mailbox connection", async () => {
    await client.connect();
    return true as const;
  }, timeoutMs);
}

/** Every file under `root` whose bytes contain `needle` (UTF-8). */
export async function filesContaining(root: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  const bytes = Buffer.from(needle, "utf8");
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if ((await readFile(path)).includes(bytes)) hits.push(path);
    }
  };
  await walk(root);
  return hits;
}

/** The error code a call is refused with, or "none" when it goes through. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (error instanceof EmsgError) return error.code;
    throw error;
  }
  return "none";
}
