import { describe, expect, it } from "vitest";
import { type Link, runLoad, runRoundTrip } from "../../bench/load.js";

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
    const result = await runLoad([queueLink(5), queueLink(5), queueLink(5)], options);
    expect(result).toMatchObject({ pairs: 3, sent: 60, delivered: 60, lost: 0, duplicates: 0, sendErrors: 0 });
    expect(result.latency!.p50).toBeGreaterThanOrEqual(4);
    expect(result.msgsPerSec).toBeGreaterThan(0);
  });

  it("reports messages that never arrive as lost, and refused sends as errors", async () => {
    const refusing: Link = { send: async () => Promise.reject(new Error("stale_epoch")), onDelivery: () => {} };
    const result = await runLoad([queueLink(1, new Set([3, 7])), refusing], options);
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
