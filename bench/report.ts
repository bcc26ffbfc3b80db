// BENCHMARKS.md: one table per scenario, EMSG beside Prosody with their ratio, and how it was run.
import { writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import type { BenchResults, MessagingFigures } from "./figures.js";
import type { LoadResult, RoundTripResult } from "./load.js";
import { ratio } from "./stats.js";
import { firstCopies, LIVE_ROUND_TRIP, objectCallsSection } from "./object-calls.js";
import { SESSION_WINDOW } from "./emsg-half.js";

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started: how busy the machine already was. */
  loadAverage: number;
}

export interface RunContext {
  date: Date;
  command: string;
  /** Which EMSG code ran, e.g. a commit. */
  code: string;
  machine: Machine;
}

export function thisMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown CPU",
    cores: list.length,
    memoryBytes: totalmem(),
    os: `Linux ${release()}`,
    node: process.version,
    loadAverage: loadavg()[0] ?? 0,
  };
}

type Better = "higher" | "lower";

interface Row {
  label: string;
  better: Better;
  emsg: number | undefined;
  prosody: number | undefined;
  format: (x: number) => string;
}

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
export const perSecond = (x: number) => grouped.format(x);
export const millis = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : grouped.format(x));
const count = (x: number) => grouped.format(x);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function cell(value: number | undefined, format: (x: number) => string): string {
  return value === undefined ? "—" : format(value);
}

// Two decimals, but small ratios keep two significant digits so 0.004× does not print as 0.00×.
const times = (q: number) => `${q === 0 || q >= 0.1 ? q.toFixed(2) : q.toPrecision(2)}×`;

function table(rows: Row[]): string {
  const lines = ["| figure | EMSG | Prosody | EMSG / Prosody |", "| --- | ---: | ---: | ---: |"];
  for (const r of rows) {
    const q = ratio(r.emsg, r.prosody);
    const label = `${r.label} (${r.better} is better)`;
    lines.push(`| ${label} | ${cell(r.emsg, r.format)} | ${cell(r.prosody, r.format)} | ${q === undefined ? "—" : times(q)} |`);
  }
  return lines.join("\n");
}

function loadRows(emsg: LoadResult | undefined, prosody: LoadResult | undefined, passes: number): Row[] {
  const timed = passes === 1 ? "one timed pass" : `median of ${passes} timed passes`;
  return [
    { label: `delivered msgs/s, ${timed}`, better: "higher", emsg: emsg?.msgsPerSec, prosody: prosody?.msgsPerSec, format: perSecond },
    { label: "latency p50, ms", better: "lower", emsg: emsg?.latency?.p50, prosody: prosody?.latency?.p50, format: millis },
    { label: "latency p95, ms", better: "lower", emsg: emsg?.latency?.p95, prosody: prosody?.latency?.p95, format: millis },
    { label: "latency p99, ms", better: "lower", emsg: emsg?.latency?.p99, prosody: prosody?.latency?.p99, format: millis },
    { label: "messages lost", better: "lower", emsg: emsg?.lost, prosody: prosody?.lost, format: count },
    // XMPP has no per-message acceptance to time, so this row is EMSG's alone.
    { label: "hub acknowledged the submission, p50 ms", better: "lower", emsg: emsg?.accepted?.p50, prosody: undefined, format: millis },
    { label: "hub acknowledged the submission, p99 ms", better: "lower", emsg: emsg?.accepted?.p99, prosody: undefined, format: millis },
  ];
}

function passList(name: string, r: LoadResult | undefined): string | undefined {
  if (!r || r.passMsgsPerSec.length === 0) return undefined;
  const first = r.firstPassMsgsPerSec === undefined ? "" : ` (first pass after start: ${perSecond(r.firstPassMsgsPerSec)})`;
  return `${name} ${r.passMsgsPerSec.map(perSecond).join(" · ")}${first}`;
}

/** Every timed pass's rate in the order run, and the untimed first pass's, under a load table. */
function passesLine(emsg: LoadResult | undefined, prosody: LoadResult | undefined): string {
  const parts = [passList("EMSG", emsg), passList("Prosody", prosody)].filter((x) => x !== undefined);
  return parts.length ? `\n\nEach timed pass, msgs/s: ${parts.join("; ")}.` : "";
}

/** `copy`: which of EMSG's copies of a message counts as its arrival. */
function roundTripRows(emsg: RoundTripResult | undefined, prosody: RoundTripResult | undefined, copy: string): Row[] {
  return [
    { label: `round trips/s, EMSG ${copy}`, better: "higher", emsg: emsg?.roundTripsPerSec, prosody: prosody?.roundTripsPerSec, format: perSecond },
    { label: `round trip p50, ms, EMSG ${copy}`, better: "lower", emsg: emsg?.latency?.p50, prosody: prosody?.latency?.p50, format: millis },
    { label: `round trip p95, ms, EMSG ${copy}`, better: "lower", emsg: emsg?.latency?.p95, prosody: prosody?.latency?.p95, format: millis },
    { label: `round trip p99, ms, EMSG ${copy}`, better: "lower", emsg: emsg?.latency?.p99, prosody: prosody?.latency?.p99, format: millis },
    { label: `round trips not completed, EMSG ${copy}`, better: "lower", emsg: emsg && emsg.rounds - emsg.completed, prosody: prosody && prosody.rounds - prosody.completed, format: count },
  ];
}

function note(name: string, half: { figures?: object; error?: string }): string[] {
  if (half.error === undefined) return [];
  return [`**${name} ${half.figures ? "stopped early (figures below are those measured before)" : "not measured"}:** ${half.error}`];
}

function missing(results: BenchResults): string[] {
  return [
    ...note("EMSG half", results.emsg),
    ...note("Prosody half", results.prosody),
    ...note("MLS client figures", results.mls),
    ...note("PWA figures", results.pwa),
    ...note("PWA catch-up", results.catchUp ?? {}),
  ];
}

function messagingSections(results: BenchResults): string[] {
  const { plan } = results;
  const e: MessagingFigures = results.emsg.figures ?? {};
  const p: MessagingFigures = results.prosody.figures ?? {};
  const load = `${plan.pairs} sender → receiver pairs at once, ${plan.messages} messages of ~${plan.messageBytes} bytes each; an EMSG sender keeps up to ${SESSION_WINDOW} submissions unanswered on its session, as the client core does when it flushes its queue, an XMPP client writes each stanza without waiting`;
  const passes = plan.passes === 1 ? "one timed pass" : `${plan.passes} timed passes`;
  const timing = `Each server runs ${plan.warmPasses} untimed passes (the first after start, then more while its JIT warms), then ${passes}, EMSG's and Prosody's taking turns; latencies are over every message of the timed passes, losses over every pass`;
  return [
    `## Federated: sender and receiver on two different domains\n\n${load}; every message crosses from one server to the other. ${timing}.\n\n${table(loadRows(e.federated, p.federated, plan.passes))}${passesLine(e.federated, p.federated)}`,
    `## Same domain: sender and receiver on one server\n\n${load}. ${timing}.\n\n${table(loadRows(e.sameDomain, p.sameDomain, plan.passes))}${passesLine(e.sameDomain, p.sameDomain)}`,
    `## Single pair, round trip across domains\n\n${plan.roundTrips} messages one at a time; the receiver answers each and the next leaves when the answer is back. Both servers take turns of ${Math.ceil(plan.roundTrips / plan.roundTripTurns)} trips, ${plan.roundTripTurns} each after an untimed one, the order reversed every round, as the throughput passes do; the figures are over every timed trip, except the mailbox copy's, whose ${plan.roundTrips} trips run in one go after Prosody stopped. ${LIVE_ROUND_TRIP}${firstCopies(results)}\n\n${table([...roundTripRows(results.emsg.figures?.liveRoundTrip, p.roundTrip, "first copy"), ...roundTripRows(e.roundTrip, p.roundTrip, "mailbox copy")])}`,
  ];
}

function emsgOnlySection(results: BenchResults): string {
  const lines = ["| figure | EMSG |", "| --- | ---: |"];
  const m = results.mls.figures;
  if (m) {
    const rounds = m.timedRounds.encryptDecryptPerCpuSec.length;
    lines.push(`| MLS encrypt + decrypt (${m.messages} messages), msgs per second of CPU time, i.e. on one core of its own, median of ${rounds} rounds (each round; wall clock on this shared machine; the process's untimed first round; ${MLS_BEFORE.encryptDecrypt}) | ${perSecond(m.encryptDecryptPerCpuSec)} (${m.timedRounds.encryptDecryptPerCpuSec.map(perSecond).join(" · ")}; wall ${perSecond(m.encryptDecryptPerSec)}; first round ${perSecond(m.firstRound.encryptDecryptPerCpuSec)}) |`);
    lines.push(`| MLS 1:1 group setup (create, add, join), ms | ${millis(m.oneToOneSetupMs)} |`);
    lines.push(`| MLS ${m.groupMembers}-member group: creator's commits + Welcomes (20 devices a commit), ms | ${millis(m.groupCommitMs)} |`);
    lines.push(`| MLS ${m.groupMembers}-member group: ${m.groupMembers - 1} joins from the Welcomes and the later commits, ms of CPU time, median of ${rounds} rounds (each round; wall clock; the process's untimed first round; ${MLS_BEFORE.joins}) | ${millis(m.groupJoinCpuMs)} (${m.timedRounds.groupJoinCpuMs.map(millis).join(" · ")}; wall ${millis(m.groupJoinMs)}; first round ${millis(m.firstRound.groupJoinCpuMs)}) |`);
  }
  const s = results.emsg.figures?.idleSockets;
  if (s) {
    const limit = s.openFileLimit
      ? `stopped near the open-file limit (${count(s.openFileLimit)}) of the domain's workerd`
      : `of ${count(s.target)} tried`;
    lines.push(`| idle WebSockets held by one domain's workerd (${limit}) | ${count(s.opened)} |`);
    lines.push(`| workerd resident memory, all processes, before → with them | ${mib(s.workerdRssBeforeBytes)} → ${mib(s.workerdRssAfterBytes)} |`);
    if (s.opened > 0) lines.push(`| memory per idle WebSocket, KiB | ${((s.workerdRssAfterBytes - s.workerdRssBeforeBytes) / s.opened / 1024).toFixed(1)} |`);
  }
  const d = results.emsg.figures?.mailboxDrain;
  if (d) {
    lines.push(`| mailbox drain on reconnect: ${count(d.queued)} queued, delivered and acknowledged | ${count(d.drained)} |`);
    lines.push(`| mailbox drain rate, msgs/s | ${perSecond(d.msgsPerSec)} |`);
  }
  if (lines.length === 2) return "## EMSG only: client cryptography and scale\n\nNot measured in this run (see above).";
  return `## EMSG only: client cryptography and scale\n\nNo Prosody counterpart: MLS runs in the client, and these limits are workerd's.\n\n${lines.join("\n")}`;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

// What the same rows measured before (issue 18): at cf15684 beside this work, taking turns in one
// process in seven runs at load 16–23 (WebCrypto's Ed25519 then); wall clock only at 1d977a0, before EMSG's own MLS crypto provider.
const MLS_BEFORE = {
  encryptDecrypt: "before: 783–859, median 811 (wall 233) at 530cabc, 5 rounds in turns with this code at load 12–16; 617–718 at cf15684; wall 362 at 1d977a0",
  joins: "before: 2,730–3,073, median 2,911 (wall 9,343) at 530cabc, 5 rounds in turns with this code; 3,519–4,271 at cf15684; wall 10,613 at 1d977a0",
};
const CATCH_UP_BEFORE = "before: 16.6–27.1 at 530cabc in runs taking turns with b806015 at load 11–17, page CPU 9.5–9.8 s; 98.6 at 35f4d5b; 627.7 at 1d977a0";

/** `alone`: the run of its own this section came from (`npm run bench -- --catch-up`), said in it. */
export function catchUpSection(results: Pick<BenchResults, "catchUp">, alone?: RunContext): string {
  const f = results.catchUp?.figures;
  if (!f) return "## PWA: catch-up\n\nNot measured in this run (see above).";
  const lines = [
    "| figure | PWA |",
    "| --- | ---: |",
    `| opening the app to all ${count(f.queued)} messages (from ${f.conversations} chats) stored in IndexedDB and the chat list right, s (${CATCH_UP_BEFORE}) | ${(f.totalMs / 1000).toFixed(1)} |`,
    `| … to the chat list showing every chat's last message, s | ${f.listedMs === undefined ? "—" : (f.listedMs / 1000).toFixed(1)} |`,
    `| … to the app on screen, s | ${(f.appShownMs / 1000).toFixed(1)} |`,
    `| messages read and stored per second | ${perSecond(f.msgsPerSec)} |`,
    ...(f.pageCpuMs === undefined ? [] : [`| CPU time of the page's renderer process meanwhile, s (what load does not stretch) | ${(f.pageCpuMs / 1000).toFixed(1)} |`]),
    ...(f.progressSteps === undefined ? [] : [`| steps of "Catching up… n of m" seen in the status strip meanwhile | ${f.progressSteps} |`]),
    ...(f.reloaded ? ["| the page reloaded once a third of the way in; all stored, each chat's unread count right (none lost or twice) | yes |"] : []),
  ];
  const run = alone
    ? ` Measured ${alone.date.toISOString().replace(/\.\d+Z$/, "Z")} with \`${alone.command}\`, EMSG at ${alone.code}; load average ${alone.machine.loadAverage.toFixed(2)} when it started.`
    : "";
  return `## PWA: catch-up\n\nA reader's PWA in Chromium (a profile on disk, as an installed PWA's), closed while ${f.conversations} friends (half on each domain) send ${count(f.queued / f.conversations)} messages each, then opened: the clock runs from opening it until every message is stored in IndexedDB and each chat in the list shows its last one (bench/catch-up.ts).${run}\n\n${lines.join("\n")}`;
}

function pwaSection(results: BenchResults): string {
  const f = results.pwa.figures;
  if (!f) return "## PWA: first load\n\nNot measured in this run (see above).";
  const lines = [
    "| figure | PWA |",
    "| --- | ---: |",
    `| initial JavaScript, gzip (${f.scriptFiles} file${f.scriptFiles === 1 ? "" : "s"}) | ${kib(f.scriptGzipBytes)} |`,
    `| initial JavaScript, uncompressed | ${kib(f.scriptBytes)} |`,
  ];
  if (f.firstPaintMs) lines.push(`| first contentful paint, p50 / max ms (${f.loads} cold loads) | ${millis(f.firstPaintMs.p50)} / ${millis(f.firstPaintMs.max)} |`);
  if (f.appShownMs) lines.push(`| app rendered (onboarding form shown), p50 / max ms | ${millis(f.appShownMs.p50)} / ${millis(f.appShownMs.max)} |`);
  return `## PWA: first load\n\nA new visitor's first visit: fresh Chromium profile, no cache, no service worker yet; the PWA served by the Worker on loopback.\n\n${lines.join("\n")}`;
}

/** The whole of BENCHMARKS.md for one run. `method` is the fixed text on how the figures are taken. */
export function renderReport(results: BenchResults, context: RunContext, method: string): string {
  const m = context.machine;
  const prosody = results.prosody.version ? `Prosody ${results.prosody.version}` : "Prosody not run";
  const header = [
    "# EMSG benchmarks",
    "",
    `Measured ${context.date.toISOString().replace(/\.\d+Z$/, "Z")} with \`${context.command}\` (plan \`${results.plan.name}\`), EMSG at ${context.code}.`,
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}; Node ${m.node}; ${prosody}.`,
    `Both servers, their clients and the load generator share this one machine, over loopback; its load average was ${m.loadAverage.toFixed(2)} when the run started.`,
  ];
  const notes = missing(results);
  return [header.join("\n"), ...(notes.length ? [notes.join("\n\n")] : []), ...messagingSections(results), emsgOnlySection(results), objectCallsSection(results.emsg.figures?.objectCalls), pwaSection(results), catchUpSection(results), method]
    .join("\n\n")
    .concat("\n");
}

export function writeReport(path: string, text: string): void {
  writeFileSync(path, text);
}
