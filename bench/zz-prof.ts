import { writeFileSync } from "node:fs";
import { startEmsg } from "./emsg-half.js";
import type { Scenario } from "./interleave.js";
import { FULL, type Plan } from "./plan.js";
import { startProfile } from "./workerd-profile.js";
import { runTool } from "./tool-main.js";

const scenario = process.argv[2] as Scenario;
const tag = process.argv[3] ?? "x";
const plan: Plan = { ...FULL, pairs: 50, messages: 200 };
const log = (l: string) => console.error(l);
runTool(async () => {
  const ports: [number, number] = [19380, 19381];
  const servers = await startEmsg(plan, log, ports, ports[0] + 10);
  try {
    await servers.pass(scenario, 1);
    for (let i = 0; i < 10; i++) {
      const p = await servers.pass(scenario, plan.messages);
      log(`warm ${i}: ${Math.round(p.msgsPerSec)}`);
    }
    for (let i = 0; i < 5; i++) {
      let t0 = 0;
      let span = { from: 0, to: 0 };
      let profs: { stop(): Promise<unknown> }[] = [];
      const p = await servers.pass(scenario, plan.messages, {
        started: () => {},
        stopped: () => {},
      }).catch((e) => { throw e; });
      void p;
      const profiles = await Promise.all(ports.map((_, k) => startProfile(ports[0] + 10 + k, 100)));
      t0 = performance.now();
      const q = await servers.pass(scenario, plan.messages, {
        started: () => (span.from = performance.now() - t0),
        stopped: () => (span.to = performance.now() - t0),
      });
      profs = profiles;
      const names = ["alice", "bob"];
      for (const [k, pr] of profs.entries()) writeFileSync(`/tmp/zz-${scenario}-${tag}${i}-${names[k]}.cpuprofile`, JSON.stringify(await pr.stop()));
      writeFileSync(`/tmp/zz-${scenario}-${tag}${i}-span.json`, JSON.stringify(span));
      log(`profiled ${i}: ${Math.round(q.msgsPerSec)}`);
    }
  } finally {
    await servers.stop();
  }
});
