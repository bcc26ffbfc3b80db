// `npx tsx bench/client-ab.ts BEFORE_TREE [rounds] [passes]`: the real client cores (EmsgClient) of
// BEFORE_TREE and of this tree against one pair of this tree's servers, passes taking turns. Alice
// (the hub's domain) writes one message at a time; Bob, on a session from the other domain, stores
// it and sends his delivery receipt; the next leaves when Alice sees it delivered. Prints the ms a
// message until delivered and the servers' CPU a message: what a change to the client core's
// session path costs the servers. Ports 19846-19847 (inspectors 20846-20847).
import { resolve } from "node:path";
const [beforeTree, rounds = "100", passes = "6"] = process.argv.slice(2);
const main = resolve(".");
const { startWorkerdDomains } = await import(resolve(main, "scripts/workerd-servers.mjs"));
const { twoDomains } = await import(resolve(main, "scripts/dev-servers.mjs"));
const { cpuMs, descendantsNamed, listenerOf } = await import(resolve(main, "bench/processes.ts"));
const { median } = await import(resolve(main, "bench/stats.ts"));
const { mkdtempSync, rmSync } = await import("node:fs");
const dir = mkdtempSync("/dev/shm/r-client-ab-");
const running = await startWorkerdDomains({ domains: twoDomains(19846, 20846), persistRoot: dir });
const servers = [...new Set([19846, 19847].map((port) => listenerOf(port, descendantsNamed("workerd"))!))];
async function world(tree: string, tag: string) {
  const people = await import(resolve(tree, "bench/emsg-people.ts"));
  const alice = await people.register(`ab${tag}a#im.alice.test`, running.resolve);
  const bob = await people.register(`ab${tag}b#im.bob.test`, running.resolve);
  await people.befriend(alice, bob);
  const conversation = await people.openConversation(alice, bob);
  await alice.client.connect();
  await bob.client.connect();
  if ((await bob.client.openSession(conversation)) !== "session") throw new Error("no session for bob");
  if ((await alice.client.openSession(conversation)) !== "session") throw new Error("no session for alice");
  // Ids Alice's messages reached "delivered" by; the waiting round checks them as they come.
  const delivered = new Set<string>();
  let wake: (() => void) | undefined;
  alice.client.on("status", (m: { id: string; status: string }) => {
    if (m.status !== "delivered") return;
    delivered.add(m.id);
    wake?.();
  });
  const run = async (n: number) => {
    const samples: number[] = [];
    const c0 = cpuMs(servers);
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const { id } = await alice.client.sendText(conversation, `m ${i}`);
      const deadline = Date.now() + 10_000;
      while (!delivered.has(id)) {
        if (Date.now() > deadline) throw new Error(`m ${i} was not delivered within 10 s`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      samples.push(performance.now() - t0);
    }
    return { p50: median(samples), cpu: ((cpuMs(servers) - c0) * 1000) / n };
  };
  return { run };
}
const worlds = { before: await world(resolve(beforeTree!), "b"), after: await world(main, "f") };
await worlds.before.run(10);
await worlds.after.run(10);
const res: Record<string, { p50: number; cpu: number }[]> = { before: [], after: [] };
for (let i = 0; i < Number(passes); i++) {
  for (const name of (i % 2 ? ["after", "before"] : ["before", "after"]) as ("before" | "after")[]) res[name]!.push(await worlds[name].run(Number(rounds)));
}
for (const [name, rs] of Object.entries(res)) console.log(`${name}: delivered p50 ms ${rs.map((r) => r.p50.toFixed(2)).join(" ")} (median ${median(rs.map((r) => r.p50)).toFixed(2)}); servers' CPU µs/msg ${rs.map((r) => Math.round(r.cpu)).join(" ")} (median ${Math.round(median(rs.map((r) => r.cpu)))})`);
await running.stopAll();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
