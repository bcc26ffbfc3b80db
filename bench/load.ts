// The workload both servers get: senders submit as fast as the server takes, receivers count,
// and every latency is send-to-delivery on one clock (both ends live in this process).
import { type LatencySummary, median, ratePerSecond, summarize } from "./stats.js";

/** One sender → receiver path, whatever the server. Message `i` is prepared before the clock starts. */
export interface Link {
  /** Hands message `i` to the sender's server; resolves when the server has taken it. */
  send(i: number): Promise<void>;
  /** Sets the one handler called for each message the receiver gets, with the message's index. */
  onDelivery(handler: (i: number) => void): void;
}

/** One pass of a scenario: every link sends its messages once. Raw samples are kept for pooling. */
export interface Pass {
  pairs: number;
  sent: number;
  delivered: number;
  duplicates: number;
  /** Messages the server refused or the connection dropped; each is also counted as lost. */
  sendErrors: number;
  firstError: string | undefined;
  elapsedMs: number;
  msgsPerSec: number;
  /** Send-to-delivery of every delivered message, ms. */
  latencies: number[];
  /** How long the sender's server took to take each message (for XMPP: to write it to the socket). */
  accepted: number[];
  /** This process's CPU while the pass ran (the load's clients: senders and receivers), µs a delivered message. */
  clientCpuUs: number;
  /** When each delivered message arrived, ms after the clock started, in order: how the pass ramped up and ended. */
  arrivals: number[];
}

/** A scenario's figures for one server, over all its passes (see `pool`). */
export interface LoadResult {
  pairs: number;
  sent: number;
  delivered: number;
  lost: number;
  duplicates: number;
  sendErrors: number;
  firstError: string | undefined;
  /** The median of the timed passes' rates. */
  msgsPerSec: number;
  /** Each timed pass's rate, in the order they ran. */
  passMsgsPerSec: number[];
  /** The first full pass after the server started (untimed: its JIT and caches still cold). */
  firstPassMsgsPerSec: number | undefined;
  /** Over every message of every timed pass. */
  latency: LatencySummary | undefined;
  accepted: LatencySummary | undefined;
}

export interface LoadOptions {
  messages: number;
  /** Messages a sender may have handed over without an answer yet (1 for HTTP one by one). */
  window: number;
  /** Give up waiting for the rest when nothing arrived for this long. */
  idleMs: number;
  deadlineMs: number;
  /** Called as the clock starts and once the pass is settled, for measures of that span only (bench/pass-timeline.ts). */
  clock?: { started(): void; stopped(): void };
}

async function sendAll(link: Link, sentAt: Float64Array, accepted: number[], options: LoadOptions, failed: (error: unknown) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < options.messages) {
      const i = next++;
      sentAt[i] = performance.now();
      await link.send(i).then(() => accepted.push(performance.now() - sentAt[i]!), failed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.window, options.messages) }, worker));
}

/** Resolves when `done()` holds, nothing arrived for `idleMs`, or `deadline` (a performance.now()) passed. */
function settle(done: () => boolean, lastArrival: () => number, options: LoadOptions, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      const now = performance.now();
      if (done() || now - lastArrival() > options.idleMs || now > deadline) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
}

/** Runs `options.messages` messages over every link at once and measures what arrived, how fast. */
export async function runPass(links: readonly Link[], options: LoadOptions): Promise<Pass> {
  const sentAt = links.map(() => new Float64Array(options.messages));
  const gotAt = links.map(() => new Float64Array(options.messages));
  const expected = links.length * options.messages;
  let delivered = 0;
  let duplicates = 0;
  let lastAt = 0;
  links.forEach((link, k) => {
    link.onDelivery((i) => {
      if (!(i >= 0 && i < options.messages)) return;
      const got = gotAt[k]!;
      if (got[i]! > 0) duplicates++;
      else {
        got[i] = lastAt = performance.now();
        delivered++;
      }
    });
  });
  options.clock?.started();
  const cpu0 = process.cpuUsage();
  const started = (lastAt = performance.now());
  const deadline = started + options.deadlineMs;
  let sent = false;
  let sendErrors = 0;
  let firstError: string | undefined;
  const failed = (error: unknown) => {
    sendErrors++;
    firstError ??= error instanceof Error ? error.message : String(error);
  };
  const accepted: number[] = [];
  void Promise.all(links.map((link, k) => sendAll(link, sentAt[k]!, accepted, options, failed))).then(() => (sent = true));
  // While senders are busy the idle clock does not run: a slow server is measured, not abandoned.
  await settle(() => sent, () => performance.now(), options, deadline);
  await settle(() => delivered >= expected, () => lastAt, options, deadline);
  const latencies: number[] = [];
  links.forEach((_, k) => {
    for (let i = 0; i < options.messages; i++) if (gotAt[k]![i]! > 0) latencies.push(gotAt[k]![i]! - sentAt[k]![i]!);
  });
  const elapsedMs = lastAt - started;
  const cpu = process.cpuUsage(cpu0);
  options.clock?.stopped();
  const arrivals = gotAt.flatMap((got) => [...got].filter((at) => at > 0).map((at) => at - started)).sort((a, b) => a - b);
  return {
    pairs: links.length,
    sent: expected,
    delivered,
    duplicates,
    sendErrors,
    firstError,
    elapsedMs,
    msgsPerSec: ratePerSecond(delivered, elapsedMs),
    latencies,
    accepted,
    clientCpuUs: delivered > 0 ? (cpu.user + cpu.system) / delivered : 0,
    arrivals,
  };
}

/** What one server did in one scenario: untimed passes (greeting, first full pass), then timed ones. */
export interface ScenarioPasses {
  untimed: Pass[];
  /** The first pass with the full load, among `untimed`. */
  first: Pass | undefined;
  timed: Pass[];
}

/**
 * One result over all of a scenario's passes: counts (and losses) over every pass, timed or not;
 * throughput as the median timed pass, so one pass caught in a slow moment of a shared machine
 * does not decide it; latencies over every message of the timed passes.
 */
export function pool({ untimed, first, timed }: ScenarioPasses): LoadResult {
  const all = [...untimed, ...timed];
  const sum = (f: (p: Pass) => number) => all.reduce((total, p) => total + f(p), 0);
  const rates = timed.map((p) => p.msgsPerSec);
  return {
    pairs: all[0]?.pairs ?? 0,
    sent: sum((p) => p.sent),
    delivered: sum((p) => p.delivered),
    lost: sum((p) => p.sent - p.delivered),
    duplicates: sum((p) => p.duplicates),
    sendErrors: sum((p) => p.sendErrors),
    firstError: all.find((p) => p.firstError !== undefined)?.firstError,
    msgsPerSec: rates.length ? median(rates) : 0,
    passMsgsPerSec: rates,
    firstPassMsgsPerSec: first?.msgsPerSec,
    latency: summarize(timed.flatMap((p) => p.latencies)),
    accepted: summarize(timed.flatMap((p) => p.accepted)),
  };
}

export interface RoundTripResult {
  rounds: number;
  completed: number;
  roundTripsPerSec: number;
  latency: LatencySummary | undefined;
}

/** One turn of round trips: each completed trip's time, ms, in order. */
export interface RoundTripTurn {
  rounds: number;
  samples: number[];
  elapsedMs: number;
}

/**
 * One message at a time: `there` carries message i out, the far end answers it over `back`, and the
 * next goes only when the answer arrived. Latency is the full round trip.
 */
export async function roundTripTurn(there: Link, back: Link, rounds: number, timeoutMs: number): Promise<RoundTripTurn> {
  there.onDelivery((i) => void back.send(i).catch(() => undefined));
  let answered: ((i: number) => void) | undefined;
  back.onDelivery((i) => answered?.(i));
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      answered = (j) => {
        if (j !== i) return;
        clearTimeout(timer);
        resolve(true);
      };
      void there.send(i).catch(() => undefined);
    });
    if (!ok) break;
    samples.push(performance.now() - t0);
  }
  return { rounds, samples, elapsedMs: performance.now() - started };
}

/** One result over turns: latencies of every trip, the rate over the turns' summed time. */
export function poolRoundTrips(turns: readonly RoundTripTurn[]): RoundTripResult {
  const samples = turns.flatMap((t) => t.samples);
  const elapsed = turns.reduce((total, t) => total + t.elapsedMs, 0);
  return { rounds: turns.reduce((total, t) => total + t.rounds, 0), completed: samples.length, roundTripsPerSec: ratePerSecond(samples.length, elapsed), latency: summarize(samples) };
}

/** `rounds` round trips in one turn (see roundTripTurn). */
export async function runRoundTrip(there: Link, back: Link, rounds: number, timeoutMs: number): Promise<RoundTripResult> {
  return poolRoundTrips([await roundTripTurn(there, back, rounds, timeoutMs)]);
}
