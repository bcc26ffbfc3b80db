// `npx tsx bench/hot-path.ts [pairs] [messages] [rounds]`: a short look at the paths issue 18 is
// about, printed only: EMSG's throughput against Prosody's in both scenarios (passes taking turns), both
// round trips against Prosody's, and the calls each kind of Durable Object got. EMSG runs on
// 18951/18952 (inspectors 19951/19952), so it does not meet a full `npm run bench` on 8827/8828.
import { startEmsg, type EmsgFigures } from "./emsg-half.js";
import { interleave, interleaveRoundTrips } from "./interleave.js";
import { QUICK, type Plan } from "./plan.js";
import { startProsodyServers } from "./prosody-half.js";
import { renderObjectCalls } from "./object-calls.js";
import type { LoadResult, RoundTripResult } from "./load.js";
import { runTool } from "./tool-main.js";

const log = (line: string) => console.error(`[hot-path ${new Date().toISOString().slice(11, 19)}] ${line}`);
const [pairs = 10, messages = 200, rounds = 100] = process.argv.slice(2).map(Number);
const plan: Plan = { ...QUICK, pairs, messages, roundTrips: rounds, passes: 3, idleSockets: 20, mailboxMessages: 100, idleMs: 5_000, deadlineMs: 120_000 };

const load = (r: LoadResult | undefined) => (r ? `${Math.round(r.msgsPerSec)} msgs/s, p50 ${r.latency?.p50.toFixed(1)} p99 ${r.latency?.p99.toFixed(1)} ms, lost ${r.lost}` : "—");
const trip = (r: RoundTripResult | undefined) => (r ? `p50 ${r.latency?.p50.toFixed(2)} p95 ${r.latency?.p95.toFixed(2)} ms, ${r.completed}/${r.rounds}` : "—");

async function main(): Promise<void> {
  const prosody = await startProsodyServers(plan, log);
  let prosodyUp = true;
  let emsg: Awaited<ReturnType<typeof startEmsg>> | undefined;
  try {
    emsg = await startEmsg(plan, log, [18951, 18952], 19951);
    const outcomes = await interleave([emsg, prosody], "federated", plan, log);
    const local = await interleave([emsg, prosody], "sameDomain", plan, log);
    const trips = await interleaveRoundTrips([emsg, prosody], plan, log);
    await prosody.stop();
    prosodyUp = false;
    const out: EmsgFigures = {};
    await emsg.rest(out);
    console.log(`federated: EMSG ${load(outcomes.get(emsg)?.result)}; Prosody ${load(outcomes.get(prosody)?.result)}`);
    console.log(`same domain: EMSG ${load(local.get(emsg)?.result)}; Prosody ${load(local.get(prosody)?.result)}`);
    console.log(`round trip: EMSG first copy ${trip(trips.get(emsg)?.result)} (first by session ${emsg.firstBy.session}, mailbox ${emsg.firstBy.mailbox}); EMSG mailbox copies ${trip(out.roundTrip)}; Prosody ${trip(trips.get(prosody)?.result)}`);
    console.log(renderObjectCalls(out.objectCalls ?? []));
  } finally {
    if (prosodyUp) await prosody.stop();
    await emsg?.stop();
  }
}

runTool(main);
