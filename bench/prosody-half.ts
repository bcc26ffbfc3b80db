// The Prosody half: the same three messaging scenarios as EMSG's, against two federated Prosodys.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Link, runLoad, runRoundTrip } from "./load.js";
import type { MessagingFigures } from "./figures.js";
import type { Plan } from "./plan.js";
import { startProsody } from "./prosody.js";
import { connectUser, disconnectAll, xmppLink, type XmppUser } from "./xmpp-load.js";

const A = "a.bench.test";
const B = "b.bench.test";

async function connectMany(connect: (name: string) => Promise<XmppUser>, names: string[]): Promise<XmppUser[]> {
  const users: XmppUser[] = [];
  // A few logins at a time: SASL and resource binding are what a login storm would measure, not messaging.
  for (let i = 0; i < names.length; i += 10) users.push(...(await Promise.all(names.slice(i, i + 10).map(connect))));
  return users;
}

/** One message over every link, so s2s connections and caches exist before anything is timed. */
async function warmUp(links: Link[], plan: Plan): Promise<void> {
  const warm = await runLoad(links, { messages: 1, window: 1, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs });
  if (warm.lost > 0) throw new Error(`Prosody lost ${warm.lost} of ${warm.sent} warm-up messages`);
}

async function measure(plan: Plan, pairs: Array<[XmppUser, XmppUser]>) {
  const links = pairs.map(([from, to]) => xmppLink(from, to, plan.messages, plan.messageBytes));
  await warmUp(links, plan);
  // @xmpp/client's send resolves once the stanza is written: the socket is the only back-pressure.
  return runLoad(links, { messages: plan.messages, window: 1, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs });
}

/**
 * Starts Prosody, runs federated, same-host and round-trip scenarios into `out` (each as it finishes),
 * stops it and removes its files. Returns Prosody's version.
 */
export async function runProsodyHalf(plan: Plan, log: (line: string) => void, out: MessagingFigures): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "emsg-bench-prosody-"));
  const prosody = await startProsody([A, B], dir);
  const [hostA, hostB] = prosody.hosts as [(typeof prosody.hosts)[0], (typeof prosody.hosts)[0]];
  const users: XmppUser[] = [];
  try {
    const n = plan.pairs;
    const senders = Array.from({ length: n }, (_, i) => `s${i}`);
    const receivers = Array.from({ length: n }, (_, i) => `r${i}`);
    await prosody.register(A, [...senders, ...receivers]);
    await prosody.register(B, receivers);
    log(`prosody ${prosody.version}: ${A} c2s :${hostA.c2sPort}, ${B} c2s :${hostB.c2sPort}; connecting ${3 * n} clients`);
    const fromA = await connectMany((u) => connectUser(hostA, u), senders);
    const toA = await connectMany((u) => connectUser(hostA, u), receivers);
    const toB = await connectMany((u) => connectUser(hostB, u), receivers);
    users.push(...fromA, ...toA, ...toB);

    const federated = (out.federated = await measure(plan, fromA.map((s, i) => [s, toB[i]!])));
    log(`prosody federated: ${federated.delivered}/${federated.sent} in ${Math.round(federated.elapsedMs)} ms`);
    const sameDomain = (out.sameDomain = await measure(plan, fromA.map((s, i) => [s, toA[i]!])));
    log(`prosody same-host: ${sameDomain.delivered}/${sameDomain.sent} in ${Math.round(sameDomain.elapsedMs)} ms`);
    const [alice, bob] = [fromA[0]!, toB[0]!];
    const there = xmppLink(alice, bob, plan.roundTrips, plan.messageBytes);
    const back = xmppLink(bob, alice, plan.roundTrips, plan.messageBytes);
    const roundTrip = (out.roundTrip = await runRoundTrip(there, back, plan.roundTrips, plan.idleMs));
    log(`prosody round trip: ${roundTrip.completed}/${roundTrip.rounds}`);
    return prosody.version;
  } finally {
    await disconnectAll(users);
    await prosody.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
