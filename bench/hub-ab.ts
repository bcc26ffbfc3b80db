// `npx tsx bench/hub-ab.ts BEFORE_TREE AFTER_TREE [pairs] [messages] [rounds] [scenario]`: the
// throughput scenario of federation-ab.ts for two EMSG builds only, their passes taking turns,
// with each domain's workerd CPU per delivered message on its own (the hub's, alice's, and the
// receiver's), so a change to one side is not lost in the other's noise. EMSG_HUB_PROFILE=FILE
// also takes a V8 CPU profile of AFTER's hub during its last pass. Ports 19660-19663, inspectors
// 19670-19673; EMSG_HUB_PORTS=BASE moves them to BASE..BASE+3 and BASE+10..BASE+13.
import { resolve } from "node:path";
import type { startEmsg } from "./emsg-half.js";
import { FULL, type Plan } from "./plan.js";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { profiled } from "./workerd-profile.js";
import { median } from "./stats.js";
import type { Scenario } from "./interleave.js";
import { runTool } from "./tool-main.js";

const log = (line: string) => console.error(`[hub-ab ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [beforeTree, afterTree, ...rest] = process.argv.slice(2);
if (!beforeTree || !afterTree) throw new Error("usage: npx tsx bench/hub-ab.ts BEFORE_TREE AFTER_TREE [pairs] [messages] [rounds] [scenario]");
const [pairs = 50, messages = 200, rounds = 4] = rest.slice(0, 3).map(Number);
const scenario = (rest[3] ?? "federated") as Scenario;
const plan: Plan = { ...FULL, pairs, messages };
const base = Number(process.env.EMSG_HUB_PORTS ?? 19660);

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

runTool(main);
