// `npx tsx bench/federation-ab.ts BEFORE_TREE [pairs] [messages] [rounds] [trips]`: the messaging
// scenarios of `npm run bench` with two EMSGs and Prosody side by side, their passes taking turns,
// so a change to the server is measured before → after within one run on a shared machine. The
// "before" EMSG is the Worker of another checkout (e.g. `git archive COMMIT | tar -x -C DIR`, with
// node_modules linked), bundled from there; the "after" EMSG is this tree's. Printed only.
// Ports 19220-19227 (inspectors 20220-20227).
import { resolve } from "node:path";
import { startEmsg, type EmsgServers } from "./emsg-half.js";
import { interleave, type Contender, type Scenario } from "./interleave.js";
import { type LoadResult, poolRoundTrips, type RoundTripResult } from "./load.js";
import { FULL, type Plan } from "./plan.js";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { startProsodyServers } from "./prosody-half.js";
import { median } from "./stats.js";
import { runTool } from "./tool-main.js";

const log = (line: string) => console.error(`[ab ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [beforeTree, ...numbers] = process.argv.slice(2);
if (!beforeTree) throw new Error("usage: npx tsx bench/federation-ab.ts BEFORE_TREE [pairs] [messages] [rounds] [trips]");
const [pairs = FULL.pairs, messages = FULL.messages, rounds = FULL.roundTrips, trips = 3] = numbers.map(Number);
const plan: Plan = { ...FULL, pairs, messages, roundTrips: rounds };
const skipLoad = process.env.EMSG_AB_TRIPS_ONLY === "1";

type Trip = (kind: "first" | "mailbox") => Promise<RoundTripResult>;
interface TripWorld {
  trip: Trip;
  stop(): Promise<void>;
}

/** One pair on two fresh domains of `tree`, for round trips: the bench's own pieces, from that tree. */
async function tripWorld(tree: string, ports: [number, number], inspector: number): Promise<TripWorld> {
  const { startWorkerdDomains } = await import(resolve(tree, "scripts/workerd-servers.mjs"));
  const { twoDomains } = await import(resolve(tree, "scripts/dev-servers.mjs"));
  const people = await import(resolve(tree, "bench/emsg-people.ts"));
  const links = await import(resolve(tree, "bench/emsg-links.ts"));
  const live = await import(resolve(tree, "bench/live-links.ts"));
  const load = await import(resolve(tree, "bench/load.ts"));
  const { mkdtempSync, rmSync } = await import("node:fs");
  const dir = mkdtempSync("/dev/shm/emsg-ab-");
  const running = await startWorkerdDomains({ domains: twoDomains(ports[0], inspector), persistRoot: dir });
  const alice = await people.register("tripa#im.alice.test", running.resolve);
  const bob = await people.register("tripb#im.bob.test", running.resolve);
  await people.befriend(alice, bob);
  const conversation = await people.openConversation(alice, bob);
  const mailboxes = new Map([
    [alice, await links.openMailbox(alice)],
    [bob, await links.openMailbox(bob)],
  ]);
  const trip: Trip = async (kind) => {
    if (kind === "mailbox") {
      const there = await links.sessionLink(alice, mailboxes.get(bob), await links.prepare(alice, conversation, rounds, plan.messageBytes));
      const back = await links.sessionLink(bob, mailboxes.get(alice), await links.prepare(bob, conversation, rounds, plan.messageBytes));
      try {
        return await load.runRoundTrip(there, back, rounds, plan.idleMs);
      } finally {
        there.close();
        back.close();
      }
    }
    const ends = await live.liveEnds(alice, bob, mailboxes, conversation, rounds, plan.messageBytes);
    const pair = await live.liveRoundTrip(...ends);
    try {
      return await load.runRoundTrip(pair.there, pair.back, rounds, plan.idleMs);
    } finally {
      pair.there.close();
      pair.back.close();
    }
  };
  return {
    trip,
    stop: async () => {
      for (const m of mailboxes.values()) m.close();
      await running.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const loadLine = (r: LoadResult | undefined) =>
  r ? `${Math.round(r.msgsPerSec)} msgs/s [${r.passMsgsPerSec.map(Math.round).join(", ")}; first ${Math.round(r.firstPassMsgsPerSec ?? 0)}], p50 ${r.latency?.p50.toFixed(0)} p95 ${r.latency?.p95.toFixed(0)} p99 ${r.latency?.p99.toFixed(0)} ms, lost ${r.lost}, acked p50 ${r.accepted?.p50.toFixed(0)} p99 ${r.accepted?.p99.toFixed(0)}` : "—";
const tripLine = (rs: RoundTripResult[]) =>
  rs.length ? `p50 ${rs.map((r) => r.latency?.p50.toFixed(2)).join(" / ")} (median ${median(rs.map((r) => r.latency?.p50 ?? NaN)).toFixed(2)}), p95 ${rs.map((r) => r.latency?.p95.toFixed(1)).join(" / ")}, p99 ${rs.map((r) => r.latency?.p99.toFixed(1)).join(" / ")}, /s ${rs.map((r) => Math.round(r.roundTripsPerSec)).join(" / ")}, done ${rs.map((r) => r.completed).join(" / ")}` : "—";

/** Server processes of a contender: each EMSG domain's workerd, or the Prosodys. */
const workerdsOn = (ports: readonly number[]) => () => ports.map((port) => listenerOf(port, descendantsNamed("workerd"))!);
const prosodys = () => [...descendantsNamed("prosody"), ...descendantsNamed("lua5.4"), ...descendantsNamed("lua5.2")];

/** `c`, noting each full pass's CPU per delivered message: its servers', and this process's (the clients of both). */
function costed(c: Contender, servers: () => number[]): Contender & { costs: Map<Scenario, { server: number[]; clients: number[]; hotClients: number[] }> } {
  const costs = new Map<Scenario, { server: number[]; clients: number[]; hotClients: number[] }>();
  return {
    name: c.name,
    costs,
    pass: async (scenario, messages) => {
      const pids = servers();
      const [server0, clients0] = [cpuMs(pids), process.cpuUsage()];
      const pass = await c.pass(scenario, messages);
      if (messages > 1 && pass.delivered > 0) {
        const clients = process.cpuUsage(clients0);
        const list = costs.get(scenario) ?? { server: [], clients: [], hotClients: [] };
        list.server.push(((cpuMs(pids) - server0) * 1000) / pass.delivered);
        list.clients.push((clients.user + clients.system) / pass.delivered);
        list.hotClients.push(pass.clientCpuUs);
        costs.set(scenario, list);
      }
      return pass;
    },
  };
}

async function loadScenarios(): Promise<void> {
  const { startEmsg: startBefore } = (await import(resolve(beforeTree!, "bench/emsg-half.ts"))) as { startEmsg: typeof startEmsg };
  const prosody = await startProsodyServers(plan, log);
  const started: EmsgServers[] = [];
  try {
    const before = costed({ ...(started[0] = await startBefore(plan, log, [19220, 19221], 20220)), name: "emsg-before" }, workerdsOn([19220, 19221]));
    const after = costed({ ...(started[1] = await startEmsg(plan, log, [19222, 19223], 20222)), name: "emsg-after" }, workerdsOn([19222, 19223]));
    const xmpp = costed(prosody, prosodys);
    for (const scenario of ["federated", "sameDomain"] as Scenario[]) {
      const outcomes = await interleave([before, after, xmpp], scenario, plan, log);
      for (const [c, o] of outcomes) {
        const cost = (c as typeof before).costs.get(scenario);
        const us = (xs: number[] | undefined) => (xs?.length ? `${Math.round(median(xs))} µs (${xs.map(Math.round).join(", ")})` : "—");
        console.log(`${scenario} ${c.name}: ${loadLine(o.result)}${o.error ? ` ERROR ${o.error}` : ""}; CPU per message: servers ${us(cost?.server)}, clients ${us(cost?.clients)} (${us(cost?.hotClients)} while timed)`);
      }
    }
  } finally {
    await prosody.stop();
    for (const s of started) await s.stop();
  }
}

async function roundTrips(): Promise<void> {
  const prosody = await startProsodyServers({ ...plan, pairs: 1 }, log);
  const worlds: TripWorld[] = [];
  try {
    const before = (worlds[0] = await tripWorld(beforeTree!, [19224, 19225], 20224));
    const after = (worlds[1] = await tripWorld(resolve("."), [19226, 19227], 20226));
    const runs: Record<string, RoundTripResult[]> = { "before first": [], "after first": [], prosody: [], "before mailbox": [], "after mailbox": [] };
    // CPU per completed round trip of each run: its servers' (both domains), and this process's (the clients).
    const cpu: Record<string, { server: number[]; clients: number[] }> = {};
    const costedTrip = (name: string, servers: () => number[], run: () => Promise<RoundTripResult>) => async () => {
      const pids = servers();
      const [server0, clients0] = [cpuMs(pids), process.cpuUsage()];
      const result = await run();
      const clients = process.cpuUsage(clients0);
      const list = (cpu[name] ??= { server: [], clients: [] });
      list.server.push(((cpuMs(pids) - server0) * 1000) / result.completed);
      list.clients.push((clients.user + clients.system) / result.completed);
      return result;
    };
    const contenders: [string, () => Promise<RoundTripResult>][] = [
      ["before first", costedTrip("before first", workerdsOn([19224, 19225]), () => before.trip("first"))],
      ["after first", costedTrip("after first", workerdsOn([19226, 19227]), () => after.trip("first"))],
      ["prosody", costedTrip("prosody", prosodys, async () => poolRoundTrips([await prosody.roundTrips(plan.roundTrips)]))],
    ];
    for (let t = 0; t < trips; t++) {
      for (const [name, run] of t % 2 === 0 ? contenders : [...contenders].reverse()) runs[name]!.push(await run());
    }
    runs["before mailbox"]!.push(await before.trip("mailbox"));
    runs["after mailbox"]!.push(await after.trip("mailbox"));
    const us = (xs: number[]) => `${Math.round(median(xs))} µs (${xs.map(Math.round).join(", ")})`;
    for (const [name, rs] of Object.entries(runs)) {
      const c = cpu[name];
      console.log(`round trip ${name}: ${tripLine(rs)}${c ? `; CPU per round trip: servers ${us(c.server)}, clients ${us(c.clients)}` : ""}`);
    }
  } finally {
    await prosody.stop();
    for (const w of worlds) await w.stop();
  }
}

async function main(): Promise<void> {
  if (!skipLoad) await loadScenarios();
  await roundTrips();
}

runTool(main);
