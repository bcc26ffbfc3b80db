import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { median, percentile, ratePerSecond, ratio, summarize } from "../../bench/stats.js";

describe("benchmark statistics", () => {
  it("takes nearest-rank percentiles, so p99 of 1..100 ms is 99 ms and p50 is 50 ms", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it("takes the median of an odd count as its middle value and of an even count as the mean of the two", () => {
    expect(median([300, 100, 200])).toBe(200);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it("reports a latency someone really saw, never one between two samples", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, p) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const value = percentile(sorted, p);
        expect(xs).toContain(value);
        expect(sorted.filter((x) => x <= value).length / sorted.length).toBeGreaterThanOrEqual(p / 100 - 1e-9);
      }),
    );
  });

  it("summarizes unsorted samples into ordered p50 ≤ p95 ≤ p99 ≤ max", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }), (xs) => {
        const s = summarize(xs)!;
        expect(s.count).toBe(xs.length);
        expect(s.p50).toBeLessThanOrEqual(s.p95);
        expect(s.p95).toBeLessThanOrEqual(s.p99);
        expect(s.p99).toBeLessThanOrEqual(s.max);
        expect(s.max).toBe(Math.max(...xs));
      }),
    );
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p95: 3, p99: 3, max: 3, mean: 2 });
  });

  it("has no summary and refuses a percentile when nothing was measured", () => {
    expect(summarize([])).toBeUndefined();
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("turns 10,000 messages in 2.5 s into 4,000 msgs/s, and nothing timed into 0", () => {
    expect(ratePerSecond(10_000, 2_500)).toBe(4_000);
    expect(ratePerSecond(0, 100)).toBe(0);
    expect(ratePerSecond(5, 0)).toBe(0);
  });

  it("gives a ratio only when both servers were measured", () => {
    expect(ratio(300, 150)).toBe(2);
    expect(ratio(undefined, 150)).toBeUndefined();
    expect(ratio(300, undefined)).toBeUndefined();
    expect(ratio(300, 0)).toBeUndefined();
  });
});
