// The Prosody half: two federated Prosodys, run through the same three messaging scenarios as EMSG.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contender, RoundTripper } from "./interleave.js";
import { roundTripTurn, runPass } from "./load.js";
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

/** Prosody's two hosts with every user logged in: a contender in the throughput scenarios and the round trip across hosts. */
export interface ProsodyServers extends Contender, RoundTripper {
  version: string;
  stop(): Promise<void>;
}

/** Starts Prosody's two hosts, registers and logs in every user the scenarios need. */
export async function startProsodyServers(plan: Plan, log: (line: string) => void): Promise<ProsodyServers> {
  const dir = mkdtempSync(join(tmpdir(), "emsg-bench-prosody-"));
  const prosody = await startProsody([A, B], dir);
  const [hostA, hostB] = prosody.hosts as [(typeof prosody.hosts)[0], (typeof prosody.hosts)[0]];
  const users: XmppUser[] = [];
  const stop = async () => {
    await disconnectAll(users);
    await prosody.stop();
    rmSync(dir, { recursive: true, force: true });
  };
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
    return {
      name: "prosody",
      version: prosody.version,
      pass: (scenario, messages) => {
        const to = scenario === "federated" ? toB : toA;
        const links = fromA.map((from, i) => xmppLink(from, to[i]!, messages, plan.messageBytes));
        // @xmpp/client's send resolves once the stanza is written: the socket is the only back-pressure.
        return runPass(links, { messages, window: 1, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs });
      },
      roundTrips: (rounds) => {
        const [alice, bob] = [fromA[0]!, toB[0]!];
        return roundTripTurn(xmppLink(alice, bob, rounds, plan.messageBytes), xmppLink(bob, alice, rounds, plan.messageBytes), rounds, plan.idleMs);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
