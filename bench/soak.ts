// Crash soak (issue 15): one sender streams numbered messages to a receiver on the other domain
// while the servers are killed with SIGKILL and started again on the same storage. Used by the
// e2e suite (a few hundred messages) and by `npm run bench -- --soak` (thousands).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmsgClient } from "../shared/client/client.js";
import { type RunningDomains, twoDomains } from "../scripts/dev-servers.mjs";
import { befriend, openConversation, register } from "./emsg-people.js";

export interface SoakPeer {
  client: EmsgClient;
  address: string;
  domain: string;
}

export interface SoakOptions {
  running: RunningDomains;
  /** Writes the messages; its domain hosts the conversation (its hub), so killing it kills the hub mid-fan-out. */
  sender: SoakPeer;
  receiver: SoakPeer;
  messages: number;
  /** How many times each domain is killed, at message positions drawn at random. */
  receiverKills: number;
  senderKills: number;
  /** Pause between two messages, ms. */
  paceMs: number;
  /** How long to wait for the last messages once the stream ended, ms. */
  settleMs: number;
  random?: () => number;
  log?: (line: string) => void;
}

export interface SoakKill {
  domain: string;
  /** The message about to be written when the kill came. */
  atMessage: number;
  /** From the kill until the server answered again, ms. */
  downMs: number;
}

export interface SoakResult {
  messages: number;
  /** Messages the receiver never showed. */
  lost: number;
  /** Messages the receiver showed more than once (its history or its arrivals). */
  duplicated: number;
  /** Arrivals of a message after a later one of the stream. */
  outOfOrder: number;
  /** "Could not be read" notices the receiver showed. */
  unreadable: number;
  /** Messages the sender's device still shows as neither sent nor delivered. */
  notSent: number;
  kills: SoakKill[];
  durationMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Connects again once a restarted server answers. */
async function reconnect(client: EmsgClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.connect();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

/** `n` distinct positions in [lo, hi), in order. */
function positions(n: number, lo: number, hi: number, random: () => number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(n, hi - lo)) picked.add(lo + Math.floor(random() * (hi - lo)));
  return [...picked].sort((a, b) => a - b);
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const random = o.random ?? Math.random;
  const log = o.log ?? (() => undefined);
  const prefix = `soak ${Date.now().toString(36)} #`;
  const started = Date.now();
  // Kills fall between the first and last tenth of the stream, so there is traffic on both sides of each.
  const margin = Math.max(1, Math.floor(o.messages / 10));
  const plan = positions(o.receiverKills + o.senderKills, margin, o.messages - margin, random);
  const senderAt = new Set(positions(o.senderKills, 0, plan.length, random).map((i) => plan[i]!));
  const kills: SoakKill[] = [];

  const arrivals: number[] = [];
  const unreadable = new Set<string>();
  const off = o.receiver.client.on("message", (m) => {
    if (m.notice?.type === "unreadable") unreadable.add(m.id);
    else if (m.direction === "in" && m.text.startsWith(prefix)) arrivals.push(Number(m.text.slice(prefix.length)));
  });

  /** Kills one domain, waits a moment, starts it again and reconnects the client on it. */
  const killAndRestart = async (peer: SoakPeer, atMessage: number) => {
    const killed = Date.now();
    await o.running.stop(peer.domain, { hard: true });
    await sleep(500 + random() * 2500);
    await o.running.restart(peer.domain);
    kills.push({ domain: peer.domain, atMessage, downMs: Date.now() - killed });
    log(`killed ${peer.domain} at message ${atMessage}, answering again after ${Date.now() - killed} ms`);
    await reconnect(peer.client);
  };

  let chaos = Promise.resolve();
  const ids: string[] = [];
  try {
    for (let i = 1; i <= o.messages; i++) {
      if (plan.includes(i)) {
        // One kill at a time: the next waits until the previous server is back.
        await chaos;
        const peer = senderAt.has(i) ? o.sender : o.receiver;
        chaos = killAndRestart(peer, i);
      }
      ids.push((await o.sender.client.sendText(o.receiver.address, `${prefix}${i}`)).id);
      if (i % 500 === 0) log(`${i} messages written, ${arrivals.length} arrived`);
      await sleep(o.paceMs);
    }
    await chaos;
    const deadline = Date.now() + o.settleMs;
    while (new Set(arrivals).size < o.messages && Date.now() < deadline) {
      // Whatever waits on a device goes out on the next sync: nudge both, as an app would on its timer.
      await o.sender.client.flush().catch(() => undefined);
      await sleep(500);
    }
    await sleep(1000);
  } finally {
    off();
  }

  const history = await o.receiver.client.history(o.sender.address, { limit: o.messages * 2 + 100 });
  const shown = new Map<number, number>();
  for (const m of history) if (m.text.startsWith(prefix)) shown.set(Number(m.text.slice(prefix.length)), (shown.get(Number(m.text.slice(prefix.length))) ?? 0) + 1);
  const arrivedCount = new Map<number, number>();
  for (const n of arrivals) arrivedCount.set(n, (arrivedCount.get(n) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (let n = 1; n <= o.messages; n++) {
    if (!shown.has(n)) lost++;
    if ((shown.get(n) ?? 0) > 1 || (arrivedCount.get(n) ?? 0) > 1) duplicated++;
  }
  let outOfOrder = 0;
  let highest = 0;
  for (const n of arrivals) {
    if (n < highest) outOfOrder++;
    highest = Math.max(highest, n);
  }
  const statuses = new Map((await o.sender.client.history(o.receiver.address, { limit: o.messages * 2 + 100 })).map((m) => [m.id, m.status]));
  const notSent = ids.filter((id) => statuses.get(id) !== "sent" && statuses.get(id) !== "delivered").length;
  return { messages: o.messages, lost, duplicated, outOfOrder, unreadable: unreadable.size, notSent, kills, durationMs: Date.now() - started };
}

/**
 * `npm run bench -- --soak`: the soak on two workerd domains started here (ports 18847–18848),
 * with fresh storage that is removed afterwards.
 */
export async function soakOnWorkerd(options: Pick<SoakOptions, "messages" | "receiverKills" | "senderKills" | "paceMs" | "settleMs" | "log">): Promise<SoakResult> {
  const { startWorkerdDomains } = await import("../scripts/workerd-servers.mjs");
  const dir = mkdtempSync(join(tmpdir(), "emsg-soak-"));
  let running: RunningDomains | undefined;
  try {
    running = await startWorkerdDomains({ domains: twoDomains(18847, 19847), persistRoot: dir });
    const alice = await register("alice#im.alice.test", running.resolve);
    const bob = await register("bob#im.bob.test", running.resolve);
    await befriend(alice, bob);
    await openConversation(alice, bob);
    await alice.client.connect();
    await bob.client.connect();
    return await runSoak({
      ...options,
      running,
      sender: { client: alice.client, address: alice.address, domain: "im.alice.test" },
      receiver: { client: bob.client, address: bob.address, domain: "im.bob.test" },
    });
  } finally {
    await running?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
