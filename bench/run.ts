// `npm run bench`: EMSG beside Prosody on one machine, written to BENCHMARKS.md.
// `npm run bench -- --quick`: a smoke run of under a minute that prints and writes nothing else;
// `npm run bench -- --medium`: a fifth of the full load, also printed only.
// `npm run bench -- --soak`: the crash soak alone (5,000 messages, 6 kills), written into its section of BENCHMARKS.md.
// `npm run bench -- --catch-up`: the PWA catch-up alone, written into its section (with --quick or --medium: printed only).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compareMessaging } from "./compare.js";
import { errorText } from "./interleave.js";
import type { BenchResults, CatchUpFigures, HalfResult, MlsFigures, PwaFigures } from "./figures.js";
import { runCatchUp } from "./catch-up.js";
import { CHANGES } from "./changes.js";
import { METHOD } from "./method.js";
import { runMlsClient } from "./mls-client.js";
import { FULL, MEDIUM, type Plan, QUICK } from "./plan.js";
import { prosodyInstalled } from "./prosody.js";
import { runPwaLoad } from "./pwa-load.js";
import { openFileLimits } from "./processes.js";
import { catchUpSection, renderReport, thisMachine, writeReport } from "./report.js";
import { soakOnWorkerd } from "./soak.js";
import { keepOwnRuns, withSection } from "./report-sections.js";
import { renderSoakSection } from "./soak-report.js";
import { describeTree } from "./tree-snapshot.js";
import { runTool } from "./tool-main.js";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * The idle-socket scenario needs one descriptor per socket here and two in the domain's workerd,
 * which inherits our limits. Node already lifts the soft limit to the hard one; when that is
 * still too low, run again under `ulimit -n` (which only root may raise past the hard limit), and go
 * on either way.
 */
function ensureOpenFiles(needed: number): void {
  const { soft } = openFileLimits();
  if (soft >= needed) return;
  if (process.env.EMSG_BENCH_RAISED) {
    log(`open-file limit ${soft} is below ${needed}; the idle-socket figure will show where it stops`);
    return;
  }
  log(`raising the open-file limit from ${soft} to ${needed}`);
  const args = [...process.execArgv, ...process.argv.slice(1)];
  const child = spawnSync("/bin/sh", ["-c", `ulimit -n ${needed} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...args], {
    stdio: "inherit",
    env: { ...process.env, EMSG_BENCH_RAISED: "1" },
  });
  process.exit(child.status ?? 1);
}

/** Logs a failure in full and gives its first line, for the report. */
function failure(name: string, error: unknown): string {
  const message = errorText(error);
  log(`${name} failed: ${message}`);
  return message.split("\n")[0]!;
}

/** The crash soak alone: its figures replace the soak section of BENCHMARKS.md, the rest stays. */
async function soak(): Promise<number> {
  process.chdir(ROOT);
  const context = { date: new Date(), command: "npm run bench -- --soak", code: describeTree(ROOT), machine: thisMachine() };
  const result = await soakOnWorkerd({ messages: 5000, receiverKills: 4, senderKills: 2, paceMs: 10, settleMs: 300_000, log });
  const section = renderSoakSection(result, context);
  console.log(section);
  const path = resolve(ROOT, "BENCHMARKS.md");
  writeReport(path, withSection(readFileSync(path, "utf8"), section));
  log("wrote the crash soak section of BENCHMARKS.md");
  return result.lost + result.duplicated + result.outOfOrder + result.unreadable + result.notSent === 0 ? 0 : 1;
}

/** The PWA catch-up alone: its figures replace the catch-up section of BENCHMARKS.md on the full plan. */
async function catchUpAlone(plan: Plan): Promise<number> {
  process.chdir(ROOT);
  const context = { date: new Date(), command: "npm run bench -- --catch-up", code: describeTree(ROOT), machine: thisMachine() };
  const catchUp: HalfResult<CatchUpFigures> = await runCatchUp(ROOT, plan.catchUp, log).then(
    (figures) => ({ figures }),
    (error: unknown) => ({ error: failure("PWA catch-up", error) }),
  );
  const section = catchUpSection({ catchUp }, context);
  console.log(section);
  if (plan === FULL && catchUp.figures) {
    const path = resolve(ROOT, "BENCHMARKS.md");
    writeReport(path, withSection(readFileSync(path, "utf8"), section));
    log("wrote the catch-up section of BENCHMARKS.md");
  }
  return catchUp.error === undefined ? 0 : 1;
}

async function main(): Promise<number> {
  if (process.argv.includes("--soak")) return soak();
  const quick = process.argv.includes("--quick");
  const medium = process.argv.includes("--medium");
  const plan: Plan = quick ? QUICK : medium ? MEDIUM : FULL;
  if (process.argv.includes("--catch-up")) return catchUpAlone(plan);
  ensureOpenFiles(plan.idleSockets + 4096);
  process.chdir(ROOT);
  const command = plan === FULL ? "npm run bench" : `npm run bench -- --${plan.name}`;
  const code = describeTree(ROOT);
  const date = new Date();
  log(`plan ${plan.name}: ${plan.pairs} pairs × ${plan.messages} messages of ~${plan.messageBytes} bytes`);

  const mls: HalfResult<MlsFigures> = await runMlsClient({ messages: plan.mlsMessages, messageBytes: plan.messageBytes, groupMembers: plan.groupMembers })
    .then((figures) => ({ figures }), (error: unknown) => ({ error: failure("MLS client", error) }));
  const { emsg, prosody } = await compareMessaging(plan, log);

  const pwa: HalfResult<PwaFigures> = await runPwaLoad(ROOT, plan.pwaLoads, log).then(
    (figures) => ({ figures }),
    (error: unknown) => ({ error: failure("PWA first load", error) }),
  );

  const catchUp: HalfResult<CatchUpFigures> = await runCatchUp(ROOT, plan.catchUp, log).then(
    (figures) => ({ figures }),
    (error: unknown) => ({ error: failure("PWA catch-up", error) }),
  );

  const results: BenchResults = { plan, emsg, prosody, mls, pwa, catchUp };
  const report = renderReport(results, { date, command, code, machine: thisMachine() }, `${CHANGES}\n\n${METHOD}`);
  console.log(report);
  if (plan === FULL) {
    const path = resolve(ROOT, "BENCHMARKS.md");
    // The crash soak, attachments and search are runs of their own; a full run keeps their last figures.
    writeReport(path, keepOwnRuns(report, path));
    log("wrote BENCHMARKS.md");
  }
  // A missing Prosody is a choice of the machine, said above; a half that broke is a failure.
  const failed = emsg.error !== undefined || mls.error !== undefined || pwa.error !== undefined || catchUp.error !== undefined || (prosodyInstalled() && prosody.error !== undefined);
  return failed ? 1 : 0;
}

runTool(main, "bench: ");
