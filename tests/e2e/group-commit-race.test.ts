import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { Transport } from "../../shared/client/transport.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, connect, countShown, newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";

// A group hosted on im.alice.test; Bob and Carol are on im.bob.test, so Carol's commits reach the
// hub through her own server's Outbox, which answers before the hub has ordered them. When Bob
// leaves, Alice's device and Carol's both commit his removal; Carol's link is slow, so Alice's is
// ordered first and Carol's is refused later. Carol's device once took its own commit for the
// group's next epoch as soon as her server took it: it was then alone there, and nothing she sent
// after (her display name, a text) could be read by anyone.
let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;
let carolDir: string;
let conversation: string;
const shown = { alice: new Map<string, number>(), bob: new Map<string, number>(), carol: new Map<string, number>() };
const LONG = 30_000;

/** Carol's network: it can keep her commits in transit until let go (a slow link), everything else as Node sends it. */
const link = {
  holding: false,
  held: [] as Array<() => void>,
  transport: {
    async fetch(url, request) {
      const commit = request.method === "POST" && url.endsWith("/messages") && (JSON.parse(request.body ?? "{}") as { kind?: string }).kind === "commit";
      if (commit && link.holding) await new Promise<void>((go) => link.held.push(go));
      return nodeTransport.fetch(url, request);
    },
    openSocket: (url) => nodeTransport.openSocket(url),
  } satisfies Transport,
  release(): void {
    link.holding = false;
    for (const go of link.held.splice(0)) go();
  },
};

beforeAll(async () => {
  pair = await startPair(19460, 20460);
  alice = (await newClient(pair)).client;
  bob = (await newClient(pair)).client;
  carolDir = await mkdtemp(join(tmpdir(), "emsg-e2e-client-"));
  carol = new EmsgClient({ store: new FileStore(carolDir), transport: link.transport, resolve: pair.running.resolve });
  countShown(alice, shown.alice);
  countShown(bob, shown.bob);
  countShown(carol, shown.carol);
});

afterAll(async () => {
  link.release();
  for (const c of [alice, bob, carol]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
  if (carolDir) await rm(carolDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

/** What a person sees of the group: "who: text", and notices as "who type". */
async function lines(client: EmsgClient): Promise<string[]> {
  const short = (a: string) => a.split("#")[0];
  return (await client.history(conversation, { limit: 500 })).map((m: MessageRecord) => (m.notice ? `${short(m.notice.by)} ${m.notice.type}` : `${short(m.from)}: ${m.text}`));
}

async function members(client: EmsgClient): Promise<string[] | undefined> {
  return (await client.conversations()).find((c) => c.conversation === conversation)?.members;
}

function sees(client: EmsgClient, who: keyof typeof shown, text: string): Promise<true> {
  return until(`${client.address} to see "${text}"`, () => shown[who].get(text) === 1 || undefined, LONG);
}

describe("a commit that loses the race at a remote hub", () => {
  it("starts with Alice's group of Bob and Carol, both on the other domain, talking", async () => {
    await alice.register("alice#im.alice.test");
    await bob.register("bob#im.bob.test");
    await carol.register("carol#im.bob.test");
    await befriend(alice, bob);
    await befriend(alice, carol);
    for (const c of [alice, bob, carol]) await connect(c);
    conversation = (await alice.createGroup("Picnic", [bob.address, carol.address])).conversation;
    for (const c of [bob, carol]) await until(`${c.address} to join`, async () => (await members(c))?.length === 3, LONG);
    await bob.sendText(conversation, "who brings the bread?");
    await sees(carol, "carol", "who brings the bread?");
    await carol.sendText(conversation, "I do");
    await sees(alice, "alice", "I do");
    await sees(bob, "bob", "I do");
  }, 120_000);

  it("Alice removes Carol and adds her back", async () => {
    await alice.removeFromGroup(conversation, [carol.address]);
    await until("Carol to be told", async () => (await lines(carol)).includes("alice removed"), LONG);
    await alice.sendText(conversation, "just us two");
    await sees(bob, "bob", "just us two");
    await alice.addToGroup(conversation, [carol.address]);
    await until("Carol to be back", async () => (await members(carol))?.length === 3, LONG);
    await carol.sendText(conversation, "back again");
    await sees(alice, "alice", "back again");
    await sees(bob, "bob", "back again");
    expect(shown.carol.get("just us two")).toBeUndefined();
  }, 120_000);

  it("Bob leaves: Alice's removal of him is ordered first, Carol's is refused, and Carol's name and text after it reach Alice", async () => {
    // Alice's app is closed when Bob leaves: Carol's device reads it first, and its commit is on its way.
    alice.disconnect();
    link.holding = true;
    await bob.leaveGroup(conversation);
    await until("Carol's device to commit Bob's removal (held on her slow link)", () => link.held.length > 0, LONG);
    await connect(alice);
    await until("Alice's device to commit it first", async () => (await members(alice))?.length === 2, LONG);
    link.release();
    await until("Carol to see Bob gone", async () => (await members(carol))?.length === 2, LONG);

    await carol.setProfile("Carol Jones");
    await carol.sendText(conversation, "see you at noon");
    // Either she reads it or she says she could not.
    await until("Alice to get Carol's text", async () => (await lines(alice)).some((l) => l === "carol: see you at noon" || l === "carol unreadable"), LONG);
    expect((await lines(alice)).filter((l) => l.endsWith("unreadable"))).toEqual([]);
    await until("Alice to know Carol's name", async () => (await alice.profiles()).get(carol.address)?.name === "Carol Jones", LONG);

    await alice.sendText(conversation, "noon it is");
    await sees(carol, "carol", "noon it is");
    await carol.sendText(conversation, "bringing the bread");
    await sees(alice, "alice", "bringing the bread");
    // Each text shown once (notices, which have none, aside).
    const twice = [...shown.alice, ...shown.carol].filter(([text, n]) => text !== "" && n !== 1);
    expect(twice).toEqual([]);
    expect(await members(alice)).toEqual([alice.address, carol.address]);
    expect((await lines(alice)).filter((l) => !l.endsWith("added") && !l.endsWith("removed") && !l.endsWith("created"))).toEqual([
      "bob: who brings the bread?",
      "carol: I do",
      "alice: just us two",
      "carol: back again",
      "bob left",
      "carol: see you at noon",
      "alice: noon it is",
      "carol: bringing the bread",
    ]);
  }, 120_000);
});
