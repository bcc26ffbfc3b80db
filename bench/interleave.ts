// The throughput scenarios, EMSG's and Prosody's passes taking turns, so that both meet the same
// moments of a shared machine (its speed was seen to swing by a third within minutes).
import { type LoadResult, type Pass, pool, poolRoundTrips, type RoundTripResult, type RoundTripTurn, type ScenarioPasses } from "./load.js";
import type { Plan } from "./plan.js";

export type Scenario = "federated" | "sameDomain";

/** One server under test, able to run a pass of either scenario. */
export interface Contender {
  name: string;
  /** Every pair sends `messages` messages at once; resolves with what arrived. */
  pass(scenario: Scenario, messages: number): Promise<Pass>;
}

export interface ScenarioOutcome {
  result?: LoadResult;
  /** Why the contender stopped early; `result` then holds the passes it finished, if any. */
  error?: string;
}

/** The text of whatever was thrown. */
export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Per contender: one message per pair (so connections and caches exist), then `plan.warmPasses`
 * full passes (see Plan), all untimed; the first full one is reported as the first pass after start. Then
 * `plan.passes` timed rounds in which each contender runs one pass, the order reversed every round
 * so neither always goes first. A contender whose pass throws, or whose greeting does not arrive,
 * runs no more passes of the scenario; the others go on.
 */
export async function interleave<C extends Contender>(contenders: readonly C[], scenario: Scenario, plan: Plan, log: (line: string) => void): Promise<Map<C, ScenarioOutcome>> {
  const passes = new Map<C, ScenarioPasses>(contenders.map((c) => [c, { untimed: [], first: undefined, timed: [] }]));
  const errors = new Map<C, string>();
  const run = async (c: C, messages: number, into: (p: Pass, record: ScenarioPasses) => void) => {
    if (errors.has(c)) return;
    try {
      const p = await c.pass(scenario, messages);
      into(p, passes.get(c)!);
      if (messages > 1) log(`${c.name} ${scenario}: ${p.delivered}/${p.sent} in ${Math.round(p.elapsedMs)} ms, ${Math.round(p.msgsPerSec)} msgs/s`);
      // Losses of a later pass are figures (the report's "messages lost"); a greeting that does not
      // arrive means the setup is broken, and nothing after it would measure anything.
      if (messages === 1 && p.delivered < p.sent) errors.set(c, `lost ${p.sent - p.delivered} of ${p.sent} messages${p.firstError ? `: ${p.firstError}` : ""}`);
    } catch (error) {
      errors.set(c, errorText(error));
    }
  };
  for (const c of contenders) {
    await run(c, 1, (p, r) => r.untimed.push(p));
    for (let warm = 0; warm < plan.warmPasses; warm++) {
      await run(c, plan.messages, (p, r) => {
        r.untimed.push(p);
        r.first ??= p;
      });
    }
  }
  for (let round = 0; round < plan.passes; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) await run(c, plan.messages, (p, r) => r.timed.push(p));
  }
  return new Map(
    contenders.map((c) => {
      const record = passes.get(c)!;
      const ran = record.untimed.length + record.timed.length > 0;
      const error = errors.get(c);
      return [c, { ...(ran ? { result: pool(record) } : {}), ...(error !== undefined ? { error: `${scenario}: ${error}` } : {}) }];
    }),
  );
}

/** One server under test, able to run a turn of the single-pair round trip. */
export interface RoundTripper {
  name: string;
  /** `rounds` round trips, one at a time, over ends opened for the turn and closed after it. */
  roundTrips(rounds: number): Promise<RoundTripTurn>;
}

export interface RoundTripOutcome {
  /** Over the timed turns it ran; trips of turns it did not run count as not completed. */
  result: RoundTripResult;
  error?: string;
}

/**
 * The round trip in turns, as the throughput passes: per contender an untimed turn (ends, JIT and
 * caches warm), then `plan.roundTripTurns` rounds in which each runs `plan.roundTrips / turns`
 * trips, the order reversed every round. A contender whose turn throws, or leaves a trip without
 * its answer, runs no more turns; what it completed stays in its result.
 */
export async function interleaveRoundTrips<C extends RoundTripper>(contenders: readonly C[], plan: Plan, log: (line: string) => void): Promise<Map<C, RoundTripOutcome>> {
  const perTurn = Math.ceil(plan.roundTrips / plan.roundTripTurns);
  const turns = new Map<C, RoundTripTurn[]>(contenders.map((c) => [c, []]));
  const stopped = new Map<C, string | undefined>();
  const run = async (c: C, timed: boolean) => {
    if (stopped.has(c)) return;
    try {
      const turn = await c.roundTrips(perTurn);
      if (timed) turns.get(c)!.push(turn);
      if (turn.samples.length < turn.rounds) stopped.set(c, undefined);
    } catch (error) {
      stopped.set(c, errorText(error));
    }
  };
  for (const c of contenders) await run(c, false);
  for (let round = 0; round < plan.roundTripTurns; round++) {
    for (const c of round % 2 === 0 ? contenders : [...contenders].reverse()) await run(c, true);
  }
  return new Map(
    contenders.map((c) => {
      // Trips of turns never run count as not completed.
      const result = { ...poolRoundTrips(turns.get(c)!), rounds: plan.roundTripTurns * perTurn };
      const error = stopped.get(c);
      log(`${c.name} round trip: ${result.completed}/${plan.roundTripTurns * perTurn}, p50 ${result.latency?.p50.toFixed(2) ?? "—"} ms`);
      return [c, { result, ...(error !== undefined ? { error: `round trip: ${error}` } : {}) }];
    }),
  );
}
