// `npx tsx bench/trip-ab.ts BEFORE_TREE [rounds] [passes] [port]`: the single-pair round trip across domains
// (both ends on sessions, bench/live-links.ts) of BEFORE_TREE and of this tree, passes taking turns,
// with each world's servers' CPU per round trip (both domains' workerds): federation-ab's round
// trip without Prosody, on ports port to port+3 (19642 unless given; inspectors 1000 above), so it needs no lock.
import { mkdtempSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { cpuMs, descendantsNamed, listenerOf } from "./processes.js";
import { FULL } from "./plan.js";
import { median } from "./stats.js";

const [beforeTree, rounds = "200", passes = "6", port = "19642"] = process.argv.slice(2);
async function world(tree: string, port: number, inspector: number) {
  const { startWorkerdDomains } = await import(
    resolve(tree, "scripts/workerd-servers.mjs")
  );
  const { twoDomains } = await import(resolve(tree, "scripts/dev-servers.mjs"));
  const people = await import(resolve(tree, "bench/emsg-people.ts"));
  const links = await import(resolve(tree, "bench/emsg-links.ts"));
  const live = await import(resolve(tree, "bench/live-links.ts"));
  const load = await import(resolve(tree, "bench/load.ts"));
  const dir = mkdtempSync("/dev/shm/emsg-rab-");
  const running = await startWorkerdDomains({
    domains: twoDomains(port, inspector),
    persistRoot: dir,
  });
  const alice = await people.register("tripa#im.alice.test", running.resolve);
  const bob = await people.register("tripb#im.bob.test", running.resolve);
  await people.befriend(alice, bob);
  const conversation = await people.openConversation(alice, bob);
  const mailboxes = new Map([
    [alice, await links.openMailbox(alice)],
    [bob, await links.openMailbox(bob)],
  ]);
  const pids = () =>
    [port, port + 1].map((p) => listenerOf(p, descendantsNamed("workerd"))!);
  const trip = async (n: number) => {
    const pair = await live.liveRoundTrip(
      ...(await live.liveEnds(
        alice,
        bob,
        mailboxes,
        conversation,
        n,
        FULL.messageBytes,
      )),
    );
    const ps = pids();
    const c0 = cpuMs(ps);
    try {
      const r = await load.runRoundTrip(pair.there, pair.back, n, FULL.idleMs);
      return {
        p50: r.latency?.p50 as number,
        cpu: ((cpuMs(ps) - c0) * 1000) / r.completed,
      };
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
const before = await world(beforeTree!, Number(port), Number(port) + 1000);
const after = await world(".", Number(port) + 2, Number(port) + 1002);
const res: Record<string, { p50: number; cpu: number }[]> = {
  before: [],
  after: [],
};
try {
  await before.trip(20);
  await after.trip(20);
  for (let i = 0; i < Number(passes); i++) {
    for (const [name, w] of (i % 2
      ? [
          ["after", after],
          ["before", before],
        ]
      : [
          ["before", before],
          ["after", after],
        ]) as [string, typeof before][])
      res[name]!.push(await w.trip(Number(rounds)));
  }
} finally {
  await before.stop();
  await after.stop();
}
for (const [name, rs] of Object.entries(res))
  console.log(
    `${name}: p50 ${rs.map((r) => r.p50.toFixed(2)).join(" ")} (median ${median(rs.map((r) => r.p50)).toFixed(2)}); servers' CPU/rt µs ${rs.map((r) => Math.round(r.cpu)).join(" ")} (median ${Math.round(median(rs.map((r) => r.cpu)))})`,
  );
process.exit(0);
