// `npx tsx bench/pass-timeline.ts SCENARIO ROUNDS TREE [TREE ...]`: the throughput scenario
// (federated or sameDomain, 50 pairs × 200) of each EMSG build, passes taking turns, measured over
// the timed span only (session openings and message preparation left out): each workerd thread's
// CPU a delivered message (a domain's JavaScript runs on its `workerd` thread), the load's
// clients', how long each domain's JavaScript thread and the clients' thread were ready to run but
// waited for a core (the kernel's schedstat: three busy processes share the machine's two cores),
// and when the messages arrived (ramp-up and tail). EMSG_TIMELINE_PROFILE=PREFIX also
// writes V8 profiles of both domains and of this process (the clients) during the last round of the
// last tree (PREFIX-alice.cpuprofile, PREFIX-bob.cpuprofile, PREFIX-clients.cpuprofile; the profiler
// slows that pass). Ports from EMSG_TIMELINE_PORTS (19280):
// BASE + 2k and BASE + 2k + 1 for tree k (at most 5 trees), inspectors 10 above.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { resolve } from "node:path";
import type { EmsgServers, startEmsg } from "./emsg-half.js";
import type { Scenario } from "./interleave.js";
import type { Pass } from "./load.js";
import { FULL, type Plan } from "./plan.js";
import { descendantsNamed, listenerOf } from "./processes.js";
import { median } from "./stats.js";
import { startProfile } from "./workerd-profile.js";
import { runTool } from "./tool-main.js";

const log = (line: string) => console.error(`[timeline ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [scenario, roundsArg, ...trees] = process.argv.slice(2);
if ((scenario !== "federated" && scenario !== "sameDomain") || !roundsArg || trees.length === 0 || trees.length > 5) {
  throw new Error("usage: npx tsx bench/pass-timeline.ts federated|sameDomain ROUNDS TREE [TREE ...]");
}
const rounds = Number(roundsArg);
const plan: Plan = { ...FULL, pairs: 50, messages: 200 };
const base = Number(process.env.EMSG_TIMELINE_PORTS ?? 19280);
const profilePrefix = process.env.EMSG_TIMELINE_PROFILE;
const TICKS_PER_SECOND = 100;

interface ThreadTimes {
  /** CPU ms so far. */
  cpu: number;
  /** ms spent ready to run, waiting for a core. */
  waited: number;
}

/** ms thread `tid` of `pid` has spent ready to run, waiting for a core, so far (schedstat's second field, in ns). */
function waitedMs(pid: number, tid: number | string): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
}

/** Each thread of `pid` so far, by "name tid". */
function threadTimes(pid: number): Map<string, ThreadTimes> {
  const out = new Map<string, ThreadTimes>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(`${name} ${tid}`, { cpu: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND, waited: waitedMs(pid, tid) });
  }
  return out;
}

/** ms this process's main thread (the clients' event loop) has waited for a core so far. */
const clientsWaited = () => waitedMs(process.pid, process.pid);

interface Sample {
  pass: Pass;
  /** Per domain: the JavaScript thread's µs a message, all other threads' together, and the JavaScript thread's wait for a core. */
  domains: { js: number; other: number; waited: number }[];
  clients: number;
  clientsWaited: number;
}

interface Build {
  tree: string;
  ports: [number, number];
  servers: EmsgServers;
  samples: Sample[];
}

async function measured(b: Build, profile: boolean): Promise<Sample> {
  const pids = b.ports.map((p) => listenerOf(p, descendantsNamed("workerd"))!);
  let before: Map<string, ThreadTimes>[] = [];
  let after: Map<string, ThreadTimes>[] = [];
  let clientsWaitedBefore = 0;
  let clientsWaitedAfter = 0;
  let profiles: Promise<{ stop(): Promise<unknown> }>[] = [];
  const clients = profile ? new Session() : undefined;
  if (clients) {
    clients.connect();
    await clients.post("Profiler.enable");
    await clients.post("Profiler.setSamplingInterval", { interval: 100 });
  }
  let clientsProfile: Promise<unknown> = Promise.resolve(undefined);
  const pass = await b.servers.pass(scenario as Scenario, plan.messages, {
    started: () => {
      if (profile) profiles = b.ports.map((_, k) => startProfile(b.ports[0] + 10 + k, 100));
      void clients?.post("Profiler.start");
      before = pids.map(threadTimes);
      clientsWaitedBefore = clientsWaited();
    },
    stopped: () => {
      after = pids.map(threadTimes);
      clientsWaitedAfter = clientsWaited();
      if (clients) clientsProfile = clients.post("Profiler.stop");
    },
  });
  if (profile) {
    const names = ["alice", "bob"];
    await Promise.all(profiles.map(async (p, k) => writeFileSync(`${profilePrefix}-${names[k]}.cpuprofile`, JSON.stringify(await (await p).stop()))));
    writeFileSync(`${profilePrefix}-clients.cpuprofile`, JSON.stringify(((await clientsProfile) as { profile: unknown }).profile));
    clients!.disconnect();
  }
  const domains = pids.map((_, k) => {
    let js = 0;
    let waited = 0;
    let other = 0;
    for (const [thread, times] of after[k]!) {
      const was = before[k]!.get(thread);
      const spent = times.cpu - (was?.cpu ?? 0);
      // The domain's JavaScript thread is the busiest one named workerd.
      if (thread.startsWith("workerd ") && spent > js) {
        other += js;
        js = spent;
        waited = times.waited - (was?.waited ?? 0);
      } else other += spent;
    }
    const perMessage = (ms: number) => (ms * 1000) / pass.delivered;
    return { js: perMessage(js), other: perMessage(other), waited: perMessage(waited) };
  });
  return { pass, domains, clients: pass.clientCpuUs, clientsWaited: ((clientsWaitedAfter - clientsWaitedBefore) * 1000) / pass.delivered };
}

const at = (xs: number[], q: number) => Math.round(xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN);
const arrivalLine = (xs: number[]) => `arrived 1% ${at(xs, 0.01)} · 10% ${at(xs, 0.1)} · 50% ${at(xs, 0.5)} · 90% ${at(xs, 0.9)} · all ${at(xs, 1)} ms`;

async function main(): Promise<void> {
  const builds: Build[] = [];
  try {
    for (const [k, tree] of trees.entries()) {
      const { startEmsg: start } = (await import(resolve(tree, "bench/emsg-half.ts"))) as { startEmsg: typeof startEmsg };
      const ports: [number, number] = [base + 2 * k, base + 2 * k + 1];
      const servers = await start(plan, log, ports, ports[0] + 10);
      builds.push({ tree, ports, servers, samples: [] });
      await servers.pass(scenario as Scenario, 1);
      await servers.pass(scenario as Scenario, plan.messages);
    }
    for (let round = 0; round < rounds; round++) {
      for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
        const profile = profilePrefix !== undefined && round === rounds - 1 && b === builds[builds.length - 1];
        const s = await measured(b, profile);
        b.samples.push(s);
        const domainLine = s.domains.map((d, k) => `${k === 0 ? "alice" : "bob"} js ${Math.round(d.js)} + ${Math.round(d.other)} µs (waited ${Math.round(d.waited)})`).join(", ");
        log(`${b.tree}: ${s.pass.delivered}/${s.pass.sent} in ${Math.round(s.pass.elapsedMs)} ms; ${domainLine}; clients ${Math.round(s.clients)} µs (waited ${Math.round(s.clientsWaited)}); ${arrivalLine(s.pass.arrivals)}`);
      }
    }
    for (const b of builds) {
      const med = (f: (s: Sample) => number) => Math.round(median(b.samples.map(f)));
      const list = (f: (s: Sample) => number) => b.samples.map((s) => Math.round(f(s))).join(" · ");
      console.log(
        `${scenario} ${b.tree}: ${med((s) => s.pass.msgsPerSec)} msgs/s (${list((s) => s.pass.msgsPerSec)}); a message: alice js ${med((s) => s.domains[0]!.js)} µs (${list((s) => s.domains[0]!.js)}) + other threads ${med((s) => s.domains[0]!.other)}, waited for a core ${med((s) => s.domains[0]!.waited)}` +
          (scenario === "federated" ? `, bob js ${med((s) => s.domains[1]!.js)} µs (${list((s) => s.domains[1]!.js)}) + ${med((s) => s.domains[1]!.other)}, waited ${med((s) => s.domains[1]!.waited)}` : "") +
          `, clients ${med((s) => s.clients)} µs, waited ${med((s) => s.clientsWaited)}; first 10% arrived by ${med((s) => at(s.pass.arrivals, 0.1))} ms, all by ${med((s) => at(s.pass.arrivals, 1))} ms`,
      );
    }
  } finally {
    for (const b of builds) await b.servers.stop();
  }
}

runTool(main);
