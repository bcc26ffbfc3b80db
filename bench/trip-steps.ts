// `npx tsx bench/trip-steps.ts [rounds] [passes]`: where the single-pair round trip across domains
// (bench/federation-ab.ts's, both ends on sessions, bench/live-links.ts) spends its time, as the two
// clients see it: each session frame sent and received is time-stamped in this process, and each
// step's median offset from the trip's start printed, with both workerds' CPU per round trip and
// this process's (both clients) while the trips are timed. EMSG_TRIP_CPU_PROFILE=FILE writes a V8
// CPU profile of this process (the clients) over the last pass. Each pass also prints the calls each
// domain's Durable Objects took a round trip (EMSG_COUNT_CALLS: WebSocket frames an object read
// among them).
// Ports 19840-19841, inspectors 20840-20841.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { startWorkerdDomains } from "../scripts/workerd-servers.mjs";
import { twoDomains } from "../scripts/dev-servers.mjs";
import type { SocketLike } from "../shared/client/transport.js";
import { openMailbox } from "./emsg-links.js";
import { befriend, openConversation, type Person, register } from "./emsg-people.js";
import { liveEnds, liveRoundTrip, liveTrips } from "./live-links.js";
import { takeCalls } from "./object-calls.js";
import { runRoundTrip } from "./load.js";
import { FULL } from "./plan.js";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { median } from "./stats.js";
import { runTool } from "./tool-main.js";

interface Step {
  end: "A" | "B";
  dir: "out" | "in";
  type: string;
  at: number;
}

const [rounds = 200, passes = 3] = process.argv.slice(2).map(Number);
const steps: Step[] = [];
const DOMAINS = ["im.alice.test", "im.bob.test"];

/** Time-stamps every frame of `person`'s session sockets, as `end`. */
function tap(person: Person, end: "A" | "B"): void {
  const api = person.ctx.api;
  const open = api.openSocket.bind(api);
  api.openSocket = (url: string): SocketLike => {
    const socket = open(url);
    if (!url.includes("/session?")) return socket;
    const send = socket.send.bind(socket);
    socket.send = (data: string) => {
      steps.push({ end, dir: "out", type: (JSON.parse(data) as { t: string }).t, at: performance.now() });
      send(data);
    };
    // The transport calls whatever handler the property gives it: time-stamp each frame before it.
    let handler: ((data: string) => void) | null = null;
    const stamped = (data: string) => {
      steps.push({ end, dir: "in", type: (JSON.parse(data) as { t: string }).t, at: performance.now() });
      handler?.(data);
    };
    Object.defineProperty(socket, "onmessage", {
      get: () => (handler ? stamped : null),
      set: (h: ((data: string) => void) | null) => {
        handler = h;
      },
    });
    return socket;
  };
}

/** Each trip's steps, as offsets (ms) from A's submission, by `END dir type #n`. */
function breakdown(list: Step[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let t0 = -1;
  let seen = new Map<string, number>();
  for (const s of list) {
    if (s.end === "A" && s.dir === "out" && s.type.startsWith("submit")) {
      t0 = s.at;
      seen = new Map();
    }
    if (t0 < 0 || s.type === "ping" || s.type === "pong") continue;
    const base = `${s.end} ${s.dir} ${s.type}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const key = n === 1 ? base : `${base} #${n}`;
    out.set(key, [...(out.get(key) ?? []), s.at - t0]);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync("/dev/shm/emsg-trip-steps-");
  process.env.EMSG_COUNT_CALLS = "1";
  const running = await startWorkerdDomains({ domains: twoDomains(19840, 20840), persistRoot: dir });
  try {
    const alice = await register("stepa#im.alice.test", running.resolve);
    const bob = await register("stepb#im.bob.test", running.resolve);
    await befriend(alice, bob);
    const conversation = await openConversation(alice, bob);
    tap(alice, "A");
    tap(bob, "B");
    const mailboxes = new Map([
      [alice, await openMailbox(alice)],
      [bob, await openMailbox(bob)],
    ]);
    const trip = (n: number) => liveTrips(alice, bob, mailboxes, conversation, n, FULL.messageBytes, FULL.idleMs);
    // The first round trips teach the hub that each account has one device.
    await trip(20);
    const servers = [19840, 19841].map((p) => listenerOf(p, descendantsNamed("workerd"))!);
    for (let pass = 0; pass < passes; pass++) {
      steps.length = 0;
      const pair = await liveRoundTrip(...(await liveEnds(alice, bob, mailboxes, conversation, rounds, FULL.messageBytes)));
      const cpu0 = [cpuMs([servers[0]!]), cpuMs([servers[1]!])];
      const profile = process.env.EMSG_TRIP_CPU_PROFILE && pass === passes - 1 ? new Session() : undefined;
      if (profile) {
        profile.connect();
        await profile.post("Profiler.enable");
        await profile.post("Profiler.start");
      }
      await takeCalls(running.resolve, DOMAINS);
      const clients0 = process.cpuUsage();
      const result = await runRoundTrip(pair.there, pair.back, rounds, FULL.idleMs);
      const clients = process.cpuUsage(clients0);
      if (profile) {
        const { profile: taken } = await profile.post("Profiler.stop");
        writeFileSync(process.env.EMSG_TRIP_CPU_PROFILE!, JSON.stringify(taken));
        profile.disconnect();
      }
      pair.there.close();
      pair.back.close();
      const calls = await takeCalls(running.resolve, DOMAINS);
      const cpu = [cpuMs([servers[0]!]) - cpu0[0]!, cpuMs([servers[1]!]) - cpu0[1]!].map((ms) => ((ms * 1000) / result.completed).toFixed(0));
      const clientUs = ((clients.user + clients.system) / result.completed).toFixed(0);
      console.log(`pass ${pass + 1}: ${result.completed} round trips, p50 ${result.latency?.p50.toFixed(3)} ms, p95 ${result.latency?.p95.toFixed(3)}; CPU a round trip: hub ${cpu[0]} µs, other ${cpu[1]} µs, both clients (this process, while timed) ${clientUs} µs`);
      for (const { domain, kinds } of calls) console.log(`  ${domain}: ${kinds.map((k) => `${k.kind} ${(k.calls / result.completed).toFixed(2)}`).join(", ") || "no calls"} a round trip`);
      const rows = [...breakdown(steps)].map(([key, at]) => [key, median(at), at.length] as const).sort((a, b) => a[1] - b[1]);
      for (const [key, at, n] of rows) console.log(`  ${(at * 1000).toFixed(0).padStart(6)} µs  ${key} (${n})`);
    }
    for (const m of mailboxes.values()) m.close();
  } finally {
    await running.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

runTool(main);
