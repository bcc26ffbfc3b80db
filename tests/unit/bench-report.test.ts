import { describe, expect, it } from "vitest";
import type { BenchResults } from "../../bench/figures.js";
import type { LoadResult } from "../../bench/load.js";
import { QUICK } from "../../bench/plan.js";
import { hostsFileText, prosodyConfig } from "../../bench/prosody.js";
import { initialScripts } from "../../bench/pwa-load.js";
import { renderReport, type RunContext } from "../../bench/report.js";
import { summarize } from "../../bench/stats.js";

const context: RunContext = {
  date: new Date("2026-11-25T07:10:00.123Z"),
  command: "npm run bench",
  code: "commit abc1234",
  machine: { cpu: "Test CPU", cores: 2, memoryBytes: 8 * 2 ** 30, os: "Linux 6.1", node: "v20.20.2", loadAverage: 0.5 },
};

function load(msgsPerSec: number, latencies: number[], lost = 0): LoadResult {
  return {
    pairs: 2, sent: 40, delivered: 40 - lost, lost, duplicates: 0, sendErrors: 0, firstError: undefined,
    msgsPerSec, passMsgsPerSec: [msgsPerSec], firstPassMsgsPerSec: msgsPerSec / 2, latency: summarize(latencies), accepted: summarize([1, 2]),
  };
}

const both: BenchResults = {
  plan: QUICK,
  emsg: { figures: { federated: load(3000, [10, 20, 30]), sameDomain: load(6000, [5]) } },
  prosody: { version: "0.12.3", figures: { federated: load(1500, [20, 40, 60], 1), sameDomain: load(12000, [1]) } },
  mls: { figures: { ciphersuite: "x", messages: 50, encryptDecryptPerSec: 400, encryptDecryptPerCpuSec: 500, oneToOneSetupMs: 60, groupMembers: 5, groupCommitMs: 40, groupJoinMs: 70, groupJoinCpuMs: 60, firstRound: { encryptDecryptPerCpuSec: 450, groupJoinCpuMs: 90 }, timedRounds: { encryptDecryptPerCpuSec: [480, 500, 520], groupJoinCpuMs: [60, 55, 70] } } },
  pwa: {
    figures: { scriptFiles: 2, scriptBytes: 150_000, scriptGzipBytes: 48_640, loads: 3, firstPaintMs: summarize([80, 90, 120]), appShownMs: summarize([100, 110, 150]) },
  },
};

const rowOf = (text: string, section: string, label: string) =>
  text.slice(text.indexOf(section)).split("\n").find((line) => line.startsWith(`| ${label}`));

describe("BENCHMARKS.md", () => {
  it("states when, with what command and on which machine the figures were taken", () => {
    const text = renderReport(both, context, "## How");
    expect(text).toContain("Measured 2026-11-25T07:10:00Z with `npm run bench` (plan `quick`), EMSG at commit abc1234.");
    expect(text).toContain("Test CPU, 2 cores, 8.0 GiB RAM, Linux 6.1; Node v20.20.2; Prosody 0.12.3.");
    expect(text).toContain("its load average was 0.50 when the run started");
    expect(text.trimEnd().endsWith("## How")).toBe(true);
  });

  it("puts EMSG beside Prosody with the ratio EMSG / Prosody in every scenario table", () => {
    const text = renderReport(both, context, "");
    expect(rowOf(text, "## Federated", "delivered msgs/s")).toBe("| delivered msgs/s, one timed pass (higher is better) | 3,000 | 1,500 | 2.00× |");
    expect(rowOf(text, "## Federated", "latency p50")).toBe("| latency p50, ms (lower is better) | 20.0 | 40.0 | 0.50× |");
    expect(rowOf(text, "## Federated", "messages lost")).toBe("| messages lost (lower is better) | 0 | 1 | 0.00× |");
    expect(rowOf(text, "## Same domain", "delivered msgs/s")).toBe("| delivered msgs/s, one timed pass (higher is better) | 6,000 | 12,000 | 0.50× |");
    expect(text).toContain("Each timed pass, msgs/s: EMSG 3,000 (first pass after start: 1,500); Prosody 1,500 (first pass after start: 750).");
    expect(rowOf(text, "## EMSG only", "MLS encrypt")).toBe("| MLS encrypt + decrypt (50 messages), msgs per second of CPU time, i.e. on one core of its own, median of 3 rounds (each round; wall clock on this shared machine; the process's untimed first round; before: 783–859, median 811 (wall 233) at 530cabc, 5 rounds in turns with this code at load 12–16; 617–718 at cf15684; wall 362 at 1d977a0) | 500 (480 · 500 · 520; wall 400; first round 450) |");
    expect(rowOf(text, "## EMSG only", "MLS 5-member group: 4 joins")).toBe("| MLS 5-member group: 4 joins from the Welcomes and the later commits, ms of CPU time, median of 3 rounds (each round; wall clock; the process's untimed first round; before: 2,730–3,073, median 2,911 (wall 9,343) at 530cabc, 5 rounds in turns with this code; 3,519–4,271 at cf15684; wall 10,613 at 1d977a0) | 60.0 (60.0 · 55.0 · 70.0; wall 70.0; first round 90.0) |");
  });

  it("names the median when there are several timed passes, and lists each of them in the order run", () => {
    const federated = { ...load(3000, [10]), passMsgsPerSec: [2500, 3500, 3000] };
    const text = renderReport({ ...both, plan: { ...QUICK, passes: 3 }, emsg: { figures: { federated } } }, context, "");
    expect(rowOf(text, "## Federated", "delivered msgs/s")).toBe("| delivered msgs/s, median of 3 timed passes (higher is better) | 3,000 | 1,500 | 2.00× |");
    expect(text).toContain("Each timed pass, msgs/s: EMSG 2,500 · 3,500 · 3,000 (first pass after start: 1,500); Prosody");
    expect(text).toContain("then 3 timed passes, EMSG's and Prosody's taking turns");
  });

  it("shows the PWA's initial JavaScript (gzip) and its time to first render", () => {
    const text = renderReport(both, context, "");
    expect(rowOf(text, "## PWA", "initial JavaScript, gzip")).toBe("| initial JavaScript, gzip (2 files) | 47.5 KiB |");
    expect(rowOf(text, "## PWA", "first contentful paint")).toBe("| first contentful paint, p50 / max ms (3 cold loads) | 90.0 / 120 |");
    expect(rowOf(text, "## PWA", "app rendered")).toBe("| app rendered (onboarding form shown), p50 / max ms | 110 / 150 |");
    const without = renderReport({ ...both, pwa: { error: "/usr/bin/chromium is missing" } }, context, "");
    expect(without).toContain("**PWA figures not measured:** /usr/bin/chromium is missing");
  });

  it("says why a half is missing and prints dashes, never numbers, in its place", () => {
    const text = renderReport({ ...both, emsg: { error: "wrangler dev did not start" } }, context, "");
    expect(text).toContain("**EMSG half not measured:** wrangler dev did not start");
    expect(rowOf(text, "## Federated", "delivered msgs/s")).toBe("| delivered msgs/s, one timed pass (higher is better) | — | 1,500 | — |");
    expect(rowOf(text, "## Single pair", "round trips/s, EMSG first copy")).toBe("| round trips/s, EMSG first copy (higher is better) | — | — | — |");
  });

  it("puts both EMSG round trips, first copy and mailbox copy, beside Prosody's, and says which copy came first", () => {
    const trip = (samples: number[]) => ({ rounds: 3, completed: samples.length, roundTripsPerSec: 100, latency: summarize(samples) });
    const emsg = { figures: { roundTrip: trip([8, 9, 10]), liveRoundTrip: { ...trip([2, 2]), firstBy: { session: 4, mailbox: 0 } } } };
    const text = renderReport({ ...both, emsg, prosody: { version: "0.12.3", figures: { roundTrip: trip([1, 1, 1]) } } }, context, "");
    expect(rowOf(text, "## Single pair", "round trip p50, ms, EMSG first copy")).toBe("| round trip p50, ms, EMSG first copy (lower is better) | 2.00 | 1.00 | 2.00× |");
    expect(rowOf(text, "## Single pair", "round trip p50, ms, EMSG mailbox copy")).toBe("| round trip p50, ms, EMSG mailbox copy (lower is better) | 9.00 | 1.00 | 9.00× |");
    expect(rowOf(text, "## Single pair", "round trips not completed, EMSG first copy")).toBe("| round trips not completed, EMSG first copy (lower is better) | 1 | 0 | — |");
    expect(text).toContain("In this run's turns (the untimed one too) 4 messages came first by the session, 0 by the mailbox.");
  });

  it("lists the calls each kind of Durable Object got per workload, with the busiest object's share", () => {
    const kinds = [
      { kind: "Gate", calls: 20, objects: 4, busiest: 5 },
      { kind: "Server", calls: 1, objects: 1, busiest: 1 },
    ];
    const objectCalls = [{ workload: "federated, one pass", messages: 400, domains: [{ domain: "im.bob.test", kinds }] }];
    const text = renderReport({ ...both, emsg: { figures: { objectCalls } } }, context, "");
    expect(rowOf(text, "## EMSG only: calls per Durable Object kind", "federated, one pass (400 messages) | im.bob.test | Gate")).toBe(
      "| federated, one pass (400 messages) | im.bob.test | Gate | 20 | 0.05 | 4 | 5 (25.0%) |",
    );
    expect(rowOf(text, "## EMSG only: calls per Durable Object kind", "federated, one pass (400 messages) | im.bob.test | Server")).toBe(
      "| federated, one pass (400 messages) | im.bob.test | Server | 1 | 0.00 | 1 | 1 (100%) |",
    );
    expect(renderReport(both, context, "")).toContain("## EMSG only: calls per Durable Object kind\n\nNot measured in this run");
  });

  it("keeps the figures of a half that stopped part-way, and says where it stopped", () => {
    const emsg = { figures: { federated: load(3000, [10]) }, error: "timed out waiting for bob" };
    const text = renderReport({ ...both, emsg }, context, "");
    expect(text).toContain("**EMSG half stopped early (figures below are those measured before):** timed out waiting for bob");
    expect(rowOf(text, "## Federated", "delivered msgs/s")).toBe("| delivered msgs/s, one timed pass (higher is better) | 3,000 | 1,500 | 2.00× |");
    expect(rowOf(text, "## Same domain", "delivered msgs/s")).toBe("| delivered msgs/s, one timed pass (higher is better) | — | 12,000 | — |");
  });
});

describe("the Prosody the benchmark starts", () => {
  const host = { domain: "a.bench.test", s2sAddress: "127.0.0.1", c2sPort: 40001 };
  const config = prosodyConfig(host, "/tmp/run", "/tmp/run/hosts");

  it("lets clients log in on loopback without TLS with plain passwords kept in its temp directory", () => {
    expect(config).toContain("c2s_ports = { 40001 }");
    expect(config).toContain('c2s_interfaces = { "127.0.0.1" }');
    expect(config).toContain("c2s_require_encryption = false");
    expect(config).toContain("allow_unencrypted_plain_auth = true");
    expect(config).toContain('authentication = "internal_plain"');
    expect(config).toContain('data_path = "/tmp/run/a.bench.test.data"');
    expect(config).toContain('VirtualHost "a.bench.test"');
  });

  it("federates over loopback s2s, finding its peer through the benchmark's hosts file", () => {
    expect(config).toContain('s2s_interfaces = { "127.0.0.1" }');
    expect(config).toContain('"dialback"');
    expect(config).toContain('hoststxt = "/tmp/run/hosts"');
    expect(hostsFileText([host, { domain: "b.bench.test", s2sAddress: "127.0.0.2", c2sPort: 40002 }])).toBe(
      "127.0.0.1 a.bench.test\n127.0.0.2 b.bench.test\n",
    );
  });
});

describe("the PWA's initial scripts", () => {
  it("are the module entries and modulepreloads of the built index.html, nothing lazy", () => {
    const html = `<script type="module" crossorigin src="/assets/index-a1.js"></script>
<link rel="modulepreload" crossorigin href="/assets/preact-b2.js"><link rel="stylesheet" href="/assets/index.css">
<script src="/registerSW.js"></script>`;
    expect(initialScripts(html)).toEqual(["/assets/index-a1.js", "/assets/preact-b2.js"]);
  });
});
