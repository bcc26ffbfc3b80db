import { describe, expect, it } from "vitest";
import { type Contender, interleave, interleaveRoundTrips, type RoundTripper } from "../../bench/interleave.js";
import { type Link, type Pass, pool, runPass, runRoundTrip } from "../../bench/load.js";
import { QUICK } from "../../bench/plan.js";

/** A link through an in-process queue that delivers after `delayMs`, dropping the indices in `drop`. */
function queueLink(delayMs: number, drop: ReadonlySet<number> = new Set()): Link {
  let deliver: (i: number) => void = () => {};
  return {
    send: async (i) => {
      if (!drop.has(i)) setTimeout(() => deliver(i), delayMs);
    },
    onDelivery(handler) {
      deliver = handler;
    },
  };
}

const options = { messages: 20, window: 2, idleMs: 200, deadlineMs: 5_000 };

describe("the benchmark's load driver", () => {
  it("counts every message of every pair as delivered, with latencies of at least the link's delay", async () => {
    const result = await runPass([queueLink(5), queueLink(5), queueLink(5)], options);
    expect(result).toMatchObject({ pairs: 3, sent: 60, delivered: 60, duplicates: 0, sendErrors: 0 });
    expect(result.latencies).toHaveLength(60);
    expect(Math.min(...result.latencies)).toBeGreaterThanOrEqual(4);
    expect(result.msgsPerSec).toBeGreaterThan(0);
    expect(result.arrivals).toHaveLength(60);
    expect(result.arrivals).toEqual([...result.arrivals].sort((a, b) => a - b));
    expect(result.arrivals.at(-1)).toBeCloseTo(result.elapsedMs, 5);
  });

  it("tells a clock when its timed span starts and once it is settled", async () => {
    const told: string[] = [];
    const result = await runPass([queueLink(5)], { ...options, clock: { started: () => told.push("started"), stopped: () => told.push("stopped") } });
    expect(told).toEqual(["started", "stopped"]);
    expect(result.delivered).toBe(20);
  });

  it("reports messages that never arrive as lost, and refused sends as errors", async () => {
    const refusing: Link = { send: async () => Promise.reject(new Error("stale_epoch")), onDelivery: () => {} };
    const result = pool({ untimed: [], first: undefined, timed: [await runPass([queueLink(1, new Set([3, 7])), refusing], options)] });
    expect(result.delivered).toBe(18);
    expect(result.lost).toBe(22);
    expect(result.sendErrors).toBe(20);
    expect(result.firstError).toBe("stale_epoch");
  });

  it("times a round trip as there and back, and stops at the first answer that never comes", async () => {
    const rounds = await runRoundTrip(queueLink(3), queueLink(3), 5, 1_000);
    expect(rounds.completed).toBe(5);
    expect(rounds.latency!.p50).toBeGreaterThanOrEqual(5);
    const broken = await runRoundTrip(queueLink(1), queueLink(1, new Set([2])), 5, 100);
    expect(broken.completed).toBe(2);
  });
});

/** A pass of `rate` msgs/s whose every message took `latency` ms, `lost` of `sent` missing. */
function pass(rate: number, latency: number, sent = 10, lost = 0): Pass {
  const delivered = sent - lost;
  return {
    pairs: 1, sent, delivered, duplicates: 0, sendErrors: 0, firstError: undefined, elapsedMs: (delivered / rate) * 1000, msgsPerSec: rate,
    latencies: Array.from({ length: delivered }, () => latency), accepted: [1], clientCpuUs: 0, arrivals: [],
  };
}

describe("passes of a scenario", () => {
  it("give the median timed pass's rate, latencies of every timed message, and losses of every pass", () => {
    const result = pool({ untimed: [pass(5, 900, 1, 1), pass(100, 800)], first: undefined, timed: [pass(300, 30), pass(100, 10), pass(200, 20)] });
    expect(result.msgsPerSec).toBe(200);
    expect(result.passMsgsPerSec).toEqual([300, 100, 200]);
    expect(result.latency).toMatchObject({ count: 30, p50: 20, max: 30 });
    expect(result).toMatchObject({ sent: 41, delivered: 40, lost: 1 });
  });

  it("take turns between servers, reversing the order each round, after each one's untimed passes", async () => {
    const calls: string[] = [];
    const contender = (name: string, rate: number): Contender => ({
      name,
      pass: async (scenario, messages) => {
        calls.push(`${name}:${messages}`);
        return pass(rate, 5, messages);
      },
    });
    const [a, b] = [contender("a", 1000), contender("b", 2000)];
    const outcomes = await interleave([a, b], "federated", { ...QUICK, messages: 20, passes: 3 }, () => {});
    expect(calls).toEqual(["a:1", "a:20", "a:20", "b:1", "b:20", "b:20", "a:20", "b:20", "b:20", "a:20", "a:20", "b:20"]);
    expect(outcomes.get(a)!.result).toMatchObject({ msgsPerSec: 1000, passMsgsPerSec: [1000, 1000, 1000], firstPassMsgsPerSec: 1000, lost: 0 });
    expect(outcomes.get(b)!.result!.sent).toBe(101);
  });

  it("stop a server whose pass fails or whose greeting is lost, keeping what it ran, while the other goes on", async () => {
    let passes = 0;
    const failing: Contender = {
      name: "failing",
      pass: async (_scenario, messages) => {
        if (++passes === 3) throw new Error("socket closed");
        return pass(500, 5, messages);
      },
    };
    const silent: Contender = { name: "silent", pass: async (_scenario, messages) => pass(1, 1, messages, messages) };
    const steady: Contender = { name: "steady", pass: async (_scenario, messages) => pass(700, 5, messages) };
    const outcomes = await interleave([failing, silent, steady], "sameDomain", { ...QUICK, messages: 20, passes: 2 }, () => {});
    expect(outcomes.get(failing)).toMatchObject({ error: "sameDomain: socket closed", result: { passMsgsPerSec: [] , firstPassMsgsPerSec: 500 } });
    expect(outcomes.get(silent)).toMatchObject({ error: "sameDomain: lost 1 of 1 messages", result: { lost: 1, passMsgsPerSec: [] } });
    expect(outcomes.get(steady)).toMatchObject({ result: { passMsgsPerSec: [700, 700], lost: 0 } });
    expect(outcomes.get(steady)!.error).toBeUndefined();
  });
});

describe("round trips of two servers", () => {
  /** A server whose every trip takes `ms`; its turn number `broken` (from 1) answers only its first trip. */
  const tripper = (name: string, ms: number, calls: string[], broken?: number): RoundTripper => {
    let turns = 0;
    return {
      name,
      roundTrips: async (rounds) => {
        calls.push(`${name}:${rounds}`);
        const samples = Array.from({ length: ++turns === broken ? 1 : rounds }, () => ms);
        return { rounds, samples, elapsedMs: samples.length * ms };
      },
    };
  };

  it("take turns after each one's untimed turn, reversing the order each round, and pool only the timed trips", async () => {
    const calls: string[] = [];
    const [a, b] = [tripper("a", 2, calls), tripper("b", 1, calls)];
    const outcomes = await interleaveRoundTrips([a, b], { ...QUICK, roundTrips: 9, roundTripTurns: 3 }, () => {});
    expect(calls).toEqual(["a:3", "b:3", "a:3", "b:3", "b:3", "a:3", "a:3", "b:3"]);
    expect(outcomes.get(a)).toEqual({ result: { rounds: 9, completed: 9, roundTripsPerSec: 500, latency: expect.objectContaining({ count: 9, p50: 2 }) } });
    expect(outcomes.get(b)!.result).toMatchObject({ completed: 9, roundTripsPerSec: 1000, latency: { p50: 1 } });
  });

  it("stop a server at a trip never answered, its turns not run counting as not completed, while the other goes on", async () => {
    const calls: string[] = [];
    const [stalled, steady] = [tripper("stalled", 1, calls, 2), tripper("steady", 1, calls)];
    const outcomes = await interleaveRoundTrips([stalled, steady], { ...QUICK, roundTrips: 8, roundTripTurns: 4 }, () => {});
    expect(calls).toEqual(["stalled:2", "steady:2", "stalled:2", "steady:2", "steady:2", "steady:2", "steady:2"]);
    expect(outcomes.get(stalled)!.result).toMatchObject({ rounds: 8, completed: 1 });
    expect(outcomes.get(steady)!.result).toMatchObject({ rounds: 8, completed: 8 });
  });

  it("stop a server whose turn throws, with the error", async () => {
    const failing: RoundTripper = { name: "failing", roundTrips: async () => Promise.reject(new Error("session refused")) };
    const outcomes = await interleaveRoundTrips([failing], { ...QUICK, roundTrips: 4, roundTripTurns: 2 }, () => {});
    expect(outcomes.get(failing)).toMatchObject({ error: "round trip: session refused", result: { rounds: 4, completed: 0 } });
  });
});
