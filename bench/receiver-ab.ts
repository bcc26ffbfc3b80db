// `npx tsx bench/receiver-ab.ts TREE_A TREE_B [accounts] [messages] [batch] [run] [rounds] [inFlight]`:
// the receiving server's CPU a message, alone, for the Workers of two trees side by side (e.g.
// `git archive` copies with node_modules linked, as for federation-ab.ts). A rogue hub
// (tests/e2e/rogue.ts) posts correctly signed conv_deliver batches of `batch` items, `run` in a
// row for each of `accounts` accounts on im.bob.test, whose devices ack every frame, as the
// client core does; each tree's one workerd is measured from /proc over `messages` messages a
// pass, passes taking turns (the order reversed every round). Item ids are made as a hub makes
// them (worker/fan-out.ts, fedItemId: a conversation's ids differ only in their last bytes), so
// the receiver's dedupe records are written as a deployment's are. Printed only. Ports 19700-19702
// (inspectors 19721-19722); EMSG_RECEIVER_PROFILE=FILE writes a V8 CPU profile of TREE_B's
// workerd during its last pass.
import { mkdtempSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { toB64u } from "../shared/base64url.js";
import { randomId16 } from "../shared/ids.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { startRogue, type Rogue } from "../tests/e2e/rogue.js";
import { openMailbox } from "./emsg-links.js";
import { register } from "./emsg-people.js";
import { cpuMs, descendantsNamed, listenerOf, sleep } from "./processes.js";
import { profiled } from "./workerd-profile.js";
import { median } from "./stats.js";
import { runTool } from "./tool-main.js";

const log = (line: string) => console.error(`[receiver-ab ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [treeA, treeB, ...numbers] = process.argv.slice(2);
if (!treeA || !treeB) throw new Error("usage: npx tsx bench/receiver-ab.ts TREE_A TREE_B [accounts] [messages] [batch] [run] [rounds] [inFlight]");
const [accounts = 50, messages = 5000, batch = 100, run = 5, rounds = 10, inFlight = 4] = numbers.map(Number);

/** A conv_deliver item's id for an application message, as worker/fan-out.ts's fedItemId makes it for im.bob.test. */
function hubItemId(conversation: string, hubSeq: number): string {
  const id = new Uint8Array(16);
  id.set(sha256(new TextEncoder().encode(`${conversation}\nim.bob.test`)).subarray(0, 10));
  let n = hubSeq * 4;
  for (let i = 15; i >= 10; i--) {
    id[i] = n % 256;
    n = Math.floor(n / 256);
  }
  return toB64u(id);
}

interface Receiver {
  address: string;
  conversation: string;
  hubSeq: number;
  received: number;
}

/** im.bob.test from `tree`, its accounts' devices on their mailbox sockets; `pass` returns µs of its CPU a message. */
async function receiverOf(tree: string, rogue: Rogue, port: number, inspectorPort: number) {
  const { startWorkerdDomains } = await import(resolve(tree, "scripts/workerd-servers.mjs"));
  const dir = mkdtempSync("/dev/shm/emsg-receiver-ab-");
  const running = await startWorkerdDomains({ domains: [{ name: "bob", domain: "im.bob.test", port, inspectorPort }], persistRoot: dir, extraResolve: { [rogue.domain]: rogue.origin } });
  const origin = `http://127.0.0.1:${port}`;
  const receivers: Receiver[] = [];
  for (let i = 0; i < accounts; i++) {
    const person = await register(`r${i}#im.bob.test`, running.resolve);
    const receiver = { address: person.address, conversation: `${rogue.domain}/${randomId16()}`, hubSeq: 0, received: 0 };
    await openMailbox(person, () => void receiver.received++);
    receivers.push(receiver);
  }
  const pid = listenerOf(port, descendantsNamed("workerd"))!;
  const mls = toB64u(new Uint8Array(260).map((_, i) => (i * 7) & 255));
  const received = () => receivers.reduce((n, r) => n + r.received, 0);

  async function pass(count: number): Promise<number> {
    const items: unknown[] = [];
    for (let k = 0; items.length < count; k++) {
      const r = receivers[k % receivers.length]!;
      for (let j = 0; j < run && items.length < count; j++) {
        const item = { conversation: r.conversation, id: randomId16(), hubSeq: ++r.hubSeq, from: `alice#${rogue.domain}`, deviceId: randomId16(), epoch: 1, type: "application", mls, at: Date.now() };
        items.push({ id: hubItemId(r.conversation, r.hubSeq), kind: "conv_deliver", conversation: r.conversation, to: [r.address], item });
      }
    }
    const before = received();
    const cpu0 = cpuMs([pid]);
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next * batch < items.length) {
          const slice = items.slice(next * batch, ++next * batch);
          const answer = await rogue.inbox(origin, "im.bob.test", slice);
          if (answer.status !== 200 || answer.body.results.some((x: { ok?: true }) => !x.ok)) throw new Error(`${tree}: ${JSON.stringify(answer.body).slice(0, 300)}`);
        }
      }),
    );
    const deadline = Date.now() + 30_000;
    while (received() - before < count && Date.now() < deadline) await sleep(20);
    // The devices' acks of the last frames.
    await sleep(300);
    if (received() - before !== count) log(`${tree}: ${received() - before} of ${count} reached the devices`);
    return ((cpuMs([pid]) - cpu0) * 1000) / count;
  }
  return {
    tree,
    pass,
    inspectorPort,
    stop: async () => {
      await running.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const rogue = await startRogue("im.evil.test", 19700);
  const worlds = [await receiverOf(treeA!, rogue, 19701, 19721), await receiverOf(treeB!, rogue, 19702, 19722)];
  try {
    for (const w of worlds) await w.pass(Math.min(messages, 1000));
    const costs = new Map(worlds.map((w) => [w, [] as number[]]));
    for (let r = 0; r < rounds; r++) {
      for (const w of r % 2 === 0 ? worlds : [...worlds].reverse()) {
        const profile = process.env.EMSG_RECEIVER_PROFILE;
        const us = profile && w === worlds[1] && r === rounds - 1 ? await profiled(w.inspectorPort, () => w.pass(messages), profile) : await w.pass(messages);
        costs.get(w)!.push(us);
        log(`${w.tree}: ${us.toFixed(0)} µs a message`);
      }
    }
    for (const [w, us] of costs) console.log(`${w.tree}: receiver's CPU ${median(us).toFixed(0)} µs a message, median of ${us.length} (${us.map((x) => x.toFixed(0)).join(", ")})`);
  } finally {
    for (const w of worlds) await w.stop();
    await rogue.close();
  }
}

runTool(main);
