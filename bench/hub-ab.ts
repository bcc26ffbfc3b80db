// `npx tsx bench/hub-ab.ts BEFORE_TREE AFTER_TREE [pairs] [messages] [rounds] [scenario]`: the
// throughput scenario of federation-ab.ts for two EMSG builds only, their passes taking turns,
// with each domain's workerd CPU per delivered message on its own (the hub's, alice's, and the
// receiver's), so a change to one side is not lost in the other's noise. EMSG_HUB_PROFILE=FILE
// also takes a V8 CPU profile of AFTER's hub during its last pass. Ports 19660-19663, inspectors
// 19670-19673; EMSG_HUB_PORTS=BASE moves them to BASE..BASE+3 and BASE+10..BASE+13.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import WebSocket from "ws";
import type { startEmsg } from "./emsg-half.js";
import { FULL, type Plan } from "./plan.js";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { median } from "./stats.js";
import type { Scenario } from "./interleave.js";

const log = (line: string) => console.error(`[hub-ab ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [beforeTree, afterTree, ...rest] = process.argv.slice(2);
if (!beforeTree || !afterTree) throw new Error("usage: npx tsx bench/hub-ab.ts BEFORE_TREE AFTER_TREE [pairs] [messages] [rounds] [scenario]");
const [pairs = 50, messages = 200, rounds = 4] = rest.slice(0, 3).map(Number);
const scenario = (rest[3] ?? "federated") as Scenario;
const plan: Plan = { ...FULL, pairs, messages };
const base = Number(process.env.EMSG_HUB_PORTS ?? 19660);

/** A V8 CPU profile of the workerd behind `port`'s inspector while `work` runs. */
async function profiled<T>(inspector: number, work: () => Promise<T>, file: string): Promise<T> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspector}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let id = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  const call = (method: string, params = {}) =>
    new Promise<unknown>((r) => {
      waiting.set(++id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  const out = await work();
  const { profile } = (await call("Profiler.stop")) as { profile: unknown };
  writeFileSync(file, JSON.stringify(profile));
  ws.close();
  return out;
}

async function main(): Promise<void> {
  const builds: { name: string; ports: [number, number]; servers: Awaited<ReturnType<typeof startEmsg>>; hub: number[]; receiver: number[] }[] = [];
  try {
    for (const [name, tree, ports, inspector] of [
      ["before", beforeTree!, [base, base + 1], base + 10],
      ["after", afterTree!, [base + 2, base + 3], base + 12],
    ] as const) {
      const { startEmsg: start } = (await import(resolve(tree, "bench/emsg-half.ts"))) as { startEmsg: typeof startEmsg };
      builds.push({ name, ports: [...ports], servers: await start(plan, log, ports, inspector), hub: [], receiver: [] });
    }
    for (const b of builds) {
      await b.servers.pass(scenario, 1);
      await b.servers.pass(scenario, messages);
    }
    const profileFile = process.env.EMSG_HUB_PROFILE;
    for (let round = 0; round < rounds; round++) {
      for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
        const [hub, receiver] = b.ports.map((p) => listenerOf(p, descendantsNamed("workerd"))!);
        const [h0, r0] = [cpuMs([hub!]), cpuMs([receiver!])];
        const run = () => b.servers.pass(scenario, messages);
        const pass = profileFile && b.name === "after" && round === rounds - 1 ? await profiled(base + 12, run, profileFile) : await run();
        const [h, r] = [((cpuMs([hub!]) - h0) * 1000) / pass.delivered, ((cpuMs([receiver!]) - r0) * 1000) / pass.delivered];
        b.hub.push(h);
        b.receiver.push(r);
        log(`${b.name}: ${pass.delivered}/${pass.sent} in ${Math.round(pass.elapsedMs)} ms; hub ${Math.round(h)} µs, receiver ${Math.round(r)} µs a message`);
      }
    }
    for (const b of builds) {
      const us = (xs: number[]) => `${Math.round(median(xs))} µs (${xs.map(Math.round).join(", ")})`;
      console.log(`${scenario} ${b.name}: CPU per message: hub ${us(b.hub)}, receiver ${us(b.receiver)}, both ${us(b.hub.map((h, i) => h + b.receiver[i]!))}`);
    }
  } finally {
    for (const b of builds) await b.servers.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
