import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EmsgClient } from "../../shared/client/client.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { startDomains, twoDomains } from "../../scripts/dev-servers.mjs";
import { befriend, connect, until } from "./harness.js";

/*
 * A server's objects live across deploys: what the code before this session's storage changes
 * (f713b30: a hub log row per entry, a mailbox row per item, a row per kept hub position) wrote is
 * read by today's code. Both domains run f713b30 first, from its own git archive, then today's
 * code on the same storage: every message, stored by either, arrives once and in order, and new
 * entries take positions after the old ones (a position given twice would be dropped as a repeat).
 */

const OLD = "f713b30";
const ROOT = resolve(import.meta.dirname, "../..");
const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const domains = twoDomains(19920, 20920);

type Running = Awaited<ReturnType<typeof startDomains>>;
let running: Running | undefined;
let oldTree: string;
let persistRoot: string;
const dirs: string[] = [];
const logs: string[] = [];

async function client(resolveMap: string): Promise<EmsgClient> {
  const dir = await mkdtemp(join(tmpdir(), "emsg-upgrade-client-"));
  dirs.push(dir);
  return new EmsgClient({ store: new FileStore(dir), transport: nodeTransport, resolve: resolveMap });
}

/** Texts a client read from `from`, in the order its "message" events came. */
function reader(c: EmsgClient, from: string): string[] {
  const got: string[] = [];
  c.on("message", (m) => {
    if (m.direction === "in" && !m.notice && m.from === from) got.push(m.text);
  });
  return got;
}

async function sent(c: EmsgClient, to: string, ids: string[]): Promise<void> {
  await until("the hub to hold every message", async () => {
    const statuses = new Map((await c.history(to, { limit: 1000 })).map((m) => [m.id, m.status]));
    return ids.every((id) => statuses.get(id) === "sent" || statuses.get(id) === "delivered");
  }, 60_000);
}

beforeAll(async () => {
  oldTree = await mkdtemp(join(tmpdir(), "emsg-old-tree-"));
  execSync(`git -C ${JSON.stringify(ROOT)} archive ${OLD} | tar -x -C ${JSON.stringify(oldTree)}`);
  await symlink(join(ROOT, "node_modules"), join(oldTree, "node_modules"));
  persistRoot = await mkdtemp(join(tmpdir(), "emsg-upgrade-"));
}, 60_000);

afterAll(async () => {
  await running?.stopAll();
  for (const dir of [...dirs, oldTree, persistRoot]) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe("storage written by the code before", () => {
  it("is read after the upgrade: mailbox items and hub entries stored by f713b30 arrive once, in order, before and with new ones", async () => {
    const old = (await import(join(oldTree, "scripts/dev-servers.mjs"))) as { startDomains: typeof startDomains };
    running = await old.startDomains({ domains, persistRoot, onLine: (d, line) => void logs.push(`[old ${d.domain}] ${line}`) });
    const alice = await client(running.resolve);
    const bob = await client(running.resolve);
    await alice.register(ALICE);
    await bob.register(BOB);
    await befriend(alice, bob);
    const bobRead = reader(bob, ALICE);
    const aliceRead = reader(alice, BOB);
    await connect(alice);
    await connect(bob);
    const first = ["before 1", "before 2", "before 3"];
    for (const text of first) await alice.sendText(BOB, text);
    await until("Bob to read what Alice sent first", () => bobRead.length === first.length, 60_000);
    await bob.sendText(ALICE, "bob before");
    await until("Alice to read Bob's first", () => aliceRead.length === 1, 60_000);
    // Both away: what follows stays in their mailboxes (rows of the old code), unacknowledged.
    bob.disconnect();
    alice.disconnect();
    const offline = ["away 1", "away 2", "away 3", "away 4", "away 5"];
    const ids = [];
    for (const text of offline) ids.push((await alice.sendText(BOB, text)).id);
    ids.push((await alice.sendText(BOB, "away 6, the last before the upgrade")).id);
    await sent(alice, BOB, ids);
    await sent(bob, ALICE, [(await bob.sendText(ALICE, "bob away")).id]);
    // The hubs' fan-out into the other domain's mailbox takes a moment; what it has not done yet, the new code does.
    await new Promise((r) => setTimeout(r, 2000));
    await running.stopAll();

    // Its own (empty) assets: a rebuild of dist/pwa by the browser tests would reload wrangler dev.
    await mkdir(join(persistRoot, "pwa"), { recursive: true });
    running = await startDomains({ domains, persistRoot, assets: join(persistRoot, "pwa"), onLine: (d, line) => void logs.push(`[new ${d.domain}] ${line}`) });
    const after = ["after 1", "after 2"];
    for (const text of after) await alice.sendText(BOB, text);
    await bob.sendText(ALICE, "bob after");
    await connect(bob);
    await connect(alice);
    const expected = [...first, ...offline, "away 6, the last before the upgrade", ...after];
    await until("Bob to read everything", () => bobRead.length >= expected.length, 90_000).catch(() => undefined);
    await until("Alice to read everything", () => aliceRead.length >= 3, 30_000).catch(() => undefined);
    // Anything doubled would come with or right after the last.
    await new Promise((r) => setTimeout(r, 2000));
    expect(bobRead).toEqual(expected);
    expect(aliceRead).toEqual(["bob before", "bob away", "bob after"]);
    alice.disconnect();
    bob.disconnect();
  }, 300_000);
});
