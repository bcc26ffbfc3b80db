// `npx tsx bench/trace-summary.ts trace.json`: where a page's renderer main thread spent its time in a Chromium
// trace (bench/catch-up.ts, EMSG_BENCH_CATCH_UP_TRACE): thread time by event, each event's own (its children's
// taken out), and the idle gaps between tasks by what ended them (a socket's data, an IndexedDB reply, ...).
import { readFileSync } from "node:fs";

interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

const TASK = "ThreadControllerImpl::RunTask";

function summarize(events: TraceEvent[]): string[] {
  const mainThreads = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}/${e.tid}`));
  const main = events.filter((e) => e.ph === "X" && e.dur !== undefined && mainThreads.has(`${e.pid}/${e.tid}`)).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  // Own thread time: an event's, less its children's (events nest by time on one thread).
  const own = new Map<TraceEvent, number>(main.map((e) => [e, e.tdur ?? 0]));
  const count = new Map<string, number>();
  const open: TraceEvent[] = [];
  for (const e of main) {
    while (open.length > 0 && open.at(-1)!.ts + open.at(-1)!.dur! <= e.ts) open.pop();
    const parent = open.at(-1);
    if (parent) own.set(parent, own.get(parent)! - (e.tdur ?? 0));
    open.push(e);
    count.set(e.name, (count.get(e.name) ?? 0) + 1);
  }
  const byName = new Map<string, number>();
  for (const [e, t] of own) byName.set(e.name, (byName.get(e.name) ?? 0) + t);
  const tasks = main.filter((e) => e.name === TASK);
  const gaps = new Map<string, number>();
  let idle = 0;
  for (let i = 1, child = 0; i < tasks.length; i++) {
    const gap = tasks[i]!.ts - (tasks[i - 1]!.ts + tasks[i - 1]!.dur!);
    while (child < main.length && (main[child]!.ts < tasks[i]!.ts || main[child]!.name === TASK)) child++;
    const first = main[child] !== undefined && main[child]!.ts < tasks[i]!.ts + tasks[i]!.dur! ? main[child]!.name : "(unnamed)";
    idle += gap;
    gaps.set(first, (gaps.get(first) ?? 0) + gap);
  }
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const span = tasks.length > 0 ? tasks.at(-1)!.ts + tasks.at(-1)!.dur! - tasks[0]!.ts : 0;
  return [
    `renderer main thread: ${ms(span).trim()} ms from first task to last, ${ms(idle).trim()} ms of it between tasks`,
    "own thread time, ms, and count, by event:",
    ...[...byName].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([name, t]) => `${ms(t)} ${String(count.get(name)).padStart(7)}  ${name}`),
    "time between tasks, ms, by what the next task began with:",
    ...[...gaps].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, t]) => `${ms(t)}  ${name}`),
  ];
}

const raw = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as TraceEvent[] | { traceEvents: TraceEvent[] };
console.log(summarize(Array.isArray(raw) ? raw : raw.traceEvents).join("\n"));
