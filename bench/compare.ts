// The messaging comparison: both servers started side by side, the throughput scenarios with their
// passes taking turns and the round trip with its turns taken likewise, then EMSG's remaining
// scenarios on its own.
import { type EmsgServers, startEmsg } from "./emsg-half.js";
import type { BenchResults } from "./figures.js";
import { errorText, interleave, interleaveRoundTrips, type Scenario } from "./interleave.js";
import type { Plan } from "./plan.js";
import { PROSODY_INSTALL, prosodyInstalled } from "./prosody.js";
import { type ProsodyServers, startProsodyServers } from "./prosody-half.js";

type Log = (line: string) => void;
type Halves = Pick<BenchResults, "emsg" | "prosody">;

/** Runs every messaging scenario of both servers; a half that broke keeps the figures it had. */
export async function compareMessaging(plan: Plan, log: Log): Promise<Halves> {
  const halves: Halves = { emsg: { figures: {} }, prosody: { figures: {} } };
  const fail = (half: keyof Halves, error: unknown) => {
    halves[half].error ??= errorText(error);
    log(`${half} half failed: ${errorText(error)}`);
  };
  let prosody: ProsodyServers | undefined;
  let emsg: EmsgServers | undefined;
  try {
    if (prosodyInstalled()) {
      prosody = await startProsodyServers(plan, log).catch((error: unknown) => void fail("prosody", error));
      if (prosody) halves.prosody.version = prosody.version;
    } else {
      console.log(`Prosody is not installed, so only EMSG is measured. For the comparison: ${PROSODY_INSTALL}`);
      halves.prosody.error = `Prosody is not installed (${PROSODY_INSTALL}).`;
    }
    emsg = await startEmsg(plan, log).catch((error: unknown) => void fail("emsg", error));

    const running = new Map<EmsgServers | ProsodyServers, keyof Halves>();
    if (emsg) running.set(emsg, "emsg");
    if (prosody) running.set(prosody, "prosody");
    for (const scenario of ["federated", "sameDomain"] as const satisfies Scenario[]) {
      if (running.size === 0) break;
      for (const [contender, outcome] of await interleave([...running.keys()], scenario, plan, log)) {
        const half = running.get(contender)!;
        if (outcome.result) halves[half].figures![scenario] = outcome.result;
        if (outcome.error !== undefined) {
          fail(half, outcome.error);
          running.delete(contender);
        }
      }
    }
    for (const [contender, outcome] of running.size ? await interleaveRoundTrips([...running.keys()], plan, log) : []) {
      const half = running.get(contender)!;
      if (contender === emsg) halves.emsg.figures!.liveRoundTrip = { ...outcome.result, firstBy: { ...emsg.firstBy } };
      else halves.prosody.figures!.roundTrip = outcome.result;
      if (outcome.error !== undefined) {
        fail(half, outcome.error);
        running.delete(contender);
      }
    }
    // Prosody stops before EMSG's scale scenarios, which open thousands of sockets.
    await prosody?.stop();
    prosody = undefined;
    if (emsg && running.has(emsg)) await emsg.rest(halves.emsg.figures!).catch((error: unknown) => fail("emsg", error));
  } finally {
    await prosody?.stop();
    await emsg?.stop();
  }
  for (const half of ["emsg", "prosody"] as const) {
    if (Object.keys(halves[half].figures!).length === 0) delete halves[half].figures;
  }
  return halves;
}
