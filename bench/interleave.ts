// The throughput scenarios, EMSG's and Prosody's passes taking turns, so that both meet the same
// moments of a shared machine (its speed was seen to swing by a third within minutes).
import { type LoadResult, type Pass, pool, type ScenarioPasses } from "./load.js";
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
 * Per contender: one message per pair (so connections and caches exist), then a first full pass,
 * both untimed. Then `plan.passes` timed rounds in which each contender runs one pass, the order
 * reversed every round so neither always goes first. A contender whose pass throws, or whose
 * greeting does not arrive, runs no more passes of the scenario; the others go on.
 */
export async function interleave(contenders: readonly Contender[], scenario: Scenario, plan: Plan, log: (line: string) => void): Promise<Map<Contender, ScenarioOutcome>> {
  const passes = new Map<Contender, ScenarioPasses>(contenders.map((c) => [c, { untimed: [], first: undefined, timed: [] }]));
  const errors = new Map<Contender, string>();
  const run = async (c: Contender, messages: number, into: (p: Pass, record: ScenarioPasses) => void) => {
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
    await run(c, plan.messages, (p, r) => {
      r.untimed.push(p);
      r.first = p;
    });
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
