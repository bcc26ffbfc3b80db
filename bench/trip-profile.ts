// `npx tsx bench/trip-profile.ts [rounds] [out.cpuprofile] [port]`: the single-pair round trip across
// domains of bench/federation-ab.ts (both ends on sessions, as bench/live-links.ts), with a V8 CPU
// profile of the hub's workerd (im.alice.test) while it runs; prints that workerd's top functions
// by self time and its CPU per round trip. Ports port and port+1 (19640 unless given), inspectors 1000 above.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { startWorkerdDomains } from "../scripts/workerd-servers.mjs";
import { twoDomains } from "../scripts/dev-servers.mjs";
import { openMailbox } from "./emsg-links.js";
import { befriend, openConversation, register } from "./emsg-people.js";
import { liveTrips } from "./live-links.js";
import { FULL } from "./plan.js";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { startProfile } from "./workerd-profile.js";
import { runTool } from "./tool-main.js";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

const [rounds = 400] = process.argv.slice(2, 3).map(Number);
const out = process.argv[3] ?? "/tmp/trip-hub.cpuprofile";
const port = Number(process.argv[4] ?? 19640);

/** Self time by function, ms, largest first. */
function selfTimes(profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] }): [string, number][] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byNode.get(id)!.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    ms.set(key, (ms.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync("/dev/shm/emsg-trip-profile-");
  const running = await startWorkerdDomains({ domains: twoDomains(port, port + 1000), persistRoot: dir });
  try {
    const alice = await register("tripa#im.alice.test", running.resolve);
    const bob = await register("tripb#im.bob.test", running.resolve);
    await befriend(alice, bob);
    const conversation = await openConversation(alice, bob);
    const mailboxes = new Map([
      [alice, await openMailbox(alice)],
      [bob, await openMailbox(bob)],
    ]);
    const trip = (n: number) => liveTrips(alice, bob, mailboxes, conversation, n, FULL.messageBytes, FULL.idleMs);
    // The first round trips teach the hub that each account has one device.
    await trip(20);
    const hub = listenerOf(port, descendantsNamed("workerd"))!;
    const sampling = await startProfile<{ nodes: Node[]; samples: number[]; timeDeltas: number[] }>(port + 1000, 100);
    const cpu0 = cpuMs([hub]);
    const result = await trip(rounds);
    const cpu = cpuMs([hub]) - cpu0;
    const profile = await sampling.stop();
    writeFileSync(out, JSON.stringify(profile));
    for (const m of mailboxes.values()) m.close();
    const times = selfTimes(profile);
    const busy = times.filter(([k]) => !k.startsWith("(idle)")).reduce((t, [, v]) => t + v, 0);
    console.log(`round trips ${result.completed}, p50 ${result.latency?.p50.toFixed(2)} ms; hub workerd CPU ${((cpu * 1000) / result.completed).toFixed(0)} µs a round trip; profiled JS ${((busy * 1000) / result.completed).toFixed(0)} µs a round trip (${out})`);
    for (const [name, t] of times.slice(0, 30)) console.log(`${((t * 1000) / result.completed).toFixed(1).padStart(7)} µs  ${name}`);
  } finally {
    await running.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runTool(main);
