import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDomains, startDomains } from "../../scripts/dev-servers.mjs";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { type CliRun, runCli } from "./cli-run.js";
import { connect, until } from "./harness.js";

// Three real servers: Alice moves from im.alice.test to im.carol.test; her friend Bob is on im.bob.test.
const DOMAINS = [
  { name: "alice", domain: "im.alice.test", port: 8981, inspectorPort: 9581 },
  { name: "bob", domain: "im.bob.test", port: 8982, inspectorPort: 9582 },
  { name: "carol", domain: "im.carol.test", port: 8985, inspectorPort: 9585 },
];
const OLD = "alice#im.alice.test";
const NEW = "alice#im.carol.test";
const BOB = "bob#im.bob.test";
const PASSPHRASE = "a long and memorable passphrase";

let servers: RunningDomains;
let root: string;
let alice: EmsgClient;
let bob: EmsgClient;
let moved: EmsgClient;
const logs: string[] = [];

const dir = (who: string) => join(root, who);
const clientIn = (who: string) => new EmsgClient({ store: new FileStore(dir(who)), transport: nodeTransport, resolve: servers.resolve });

/** The command-line client over a state directory, as a person runs it. */
const cli = (who: string, args: string[], passphrase = PASSPHRASE): Promise<CliRun> =>
  runCli(dir(who), args, { EMSG_RESOLVE: servers.resolve, EMSG_PASSPHRASE: passphrase }, 90_000);

async function texts(client: EmsgClient, peer: string): Promise<string[]> {
  return (await client.history(peer, { limit: 500 })).map((m) => m.text);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "emsg-e2e-move-"));
  // Their own (empty) assets: a rebuild of dist/pwa by the browser tests would reload wrangler dev.
  await mkdir(join(root, "pwa"));
  servers = await startDomains({ domains: DOMAINS, persistRoot: join(root, "servers"), assets: join(root, "pwa"), onLine: (d, line) => void logs.push(`[${d.domain}] ${line}`) });
  alice = clientIn("alice");
  bob = clientIn("bob");
});

afterAll(async () => {
  for (const c of [alice, bob, moved]) c?.disconnect();
  await servers?.stopAll();
  await writeFile(join("test-artifacts", "e2e-account-move.log"), logs.join("\n")).catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
});

describe("moving an account to another provider", () => {
  it("starts with Alice and Bob as friends who have talked", async () => {
    await alice.register(OLD, { label: "old laptop" });
    await bob.register(BOB, { label: "bob phone" });
    await alice.sendFriendRequest(BOB, "hi Bob");
    await until("Bob to see Alice's request", async () => {
      await bob.sync();
      return (await bob.friends()).find((f) => f.address === OLD && f.state === "incoming");
    });
    await bob.acceptFriend(OLD);
    await until("Alice to see Bob accept", async () => {
      await alice.sync();
      return (await alice.friends()).find((f) => f.address === BOB && f.state === "friend");
    });
    await connect(alice);
    await connect(bob);
    await alice.sendText(BOB, "before the move");
    await until("Bob to read Alice's first message", async () => {
      await bob.sync();
      return (await texts(bob, OLD)).includes("before the move");
    });
    // Both accept friends only: the move must not need a stranger's welcome anywhere.
    await alice.setSettings({ strangers: "review", retentionDays: 90 });
    await bob.setSettings({ strangers: "refuse" });
    alice.disconnect();
  });

  it("exports with the command-line client, and refuses to import with a wrong passphrase or a damaged file", async () => {
    const file = join(root, "alice.emsg");
    const exported = await cli("alice", ["export", file]);
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toContain(`Exported ${OLD} to ${file}.`);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ emsgExport: 1, kdf: { alg: "scrypt" } });

    const wrong = await cli("wrong", ["import", file, "--as", NEW], "not the passphrase");
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain("Wrong passphrase, or the file was changed.");
    const damaged = join(root, "damaged.emsg");
    await writeFile(damaged, (await readFile(file, "utf8")).replace('"ciphertext":"', '"ciphertext":"AAAA'));
    const broken = await cli("wrong", ["import", damaged, "--as", NEW]);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/Wrong passphrase, or the file was changed|not an EMSG export|damaged/);
    // Nothing was registered by the failed attempts: the new name is still free.
    expect((await cli("wrong", ["whoami"])).code).toBe(2);
  });

  it("imports at the new provider as a new address: friends restored, the old server told", async () => {
    const imported = await cli("moved", ["import", join(root, "alice.emsg"), "--as", NEW, "--label", "new laptop"]);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toContain(`Moved ${OLD} to ${NEW}: 1 friend(s) restored and told of the move; its old server told 1 contact(s).`);
    moved = clientIn("moved");
    expect(await moved.open()).toBe(true);
    expect(moved.address).toBe(NEW);
    expect(moved.account!.accountPublicKey).not.toBe(alice.account!.accountPublicKey);
    expect(await moved.settings()).toEqual({ strangers: "review", retentionDays: 90 });
    expect(await moved.friends()).toEqual([expect.objectContaining({ address: BOB, state: "friend", accountKey: bob.account!.accountPublicKey })]);
    expect(await moved.moveStatus()).toMatchObject({ from: OLD, announced: true, told: 1, waiting: 0, done: true });
  });

  it("shows Bob the move without anyone clicking anything", async () => {
    const seen = await until("Bob's client to show that Alice moved", async () => {
      await bob.sync();
      const all = await bob.friends();
      const old = all.find((f) => f.address === OLD);
      return old?.movedTo === NEW && all.find((f) => f.address === NEW && f.state === "friend");
    });
    expect(seen).toMatchObject({ accountKey: moved.account!.accountPublicKey, movedFrom: OLD });
    expect((await bob.friends()).filter((f) => f.state === "incoming")).toEqual([]);
    expect(await bob.safetyNumber(NEW)).toBe(await moved.safetyNumber(BOB));
  });

  it("carries messages both ways between Bob and the new address; Bob's old conversation stays readable", async () => {
    await connect(moved);
    const arrived: MessageRecord[] = [];
    moved.on("message", (m) => void arrived.push(m));
    // Bob writes to the address he knew: it goes to where Alice lives now.
    const sent = await bob.sendText(OLD, "did you move?");
    // Polling too: a server reloading under the test drops sockets, and nothing here reconnects them.
    await until("the new address to receive Bob's message", async () => {
      await moved.sync();
      return arrived.find((m) => m.text === "did you move?" && m.from === BOB);
    });
    expect(sent.conversation).not.toBe((await bob.conversations()).find((c) => c.peer === OLD)?.conversation);

    await moved.sendText(BOB, "yes, this is my new address");
    await until("Bob to receive the reply from the new address", async () => {
      await bob.sync();
      return (await texts(bob, NEW)).includes("yes, this is my new address");
    });
    await until("Bob's message to show as delivered", async () => {
      await bob.sync();
      return (await bob.history(NEW)).find((m) => m.id === sent.id)?.status === "delivered";
    });
    expect(await texts(bob, OLD)).toEqual(["before the move"]);
    expect(await texts(bob, NEW)).toEqual(["did you move?", "yes, this is my new address"]);
  });
});
