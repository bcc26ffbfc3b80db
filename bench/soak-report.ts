// The crash soak's section of BENCHMARKS.md: written by `npm run bench -- --soak`, kept by full runs.
import type { RunContext } from "./report.js";
import type { SoakResult } from "./soak.js";
import { SOAK_TITLE } from "./report-sections.js";

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const seconds = (ms: number) => (ms / 1000).toFixed(1);

export function renderSoakSection(r: SoakResult, context: RunContext): string {
  const byDomain = new Map<string, number>();
  for (const k of r.kills) byDomain.set(k.domain, (byDomain.get(k.domain) ?? 0) + 1);
  const rows = [
    "| figure | EMSG |",
    "| --- | ---: |",
    `| messages streamed | ${grouped.format(r.messages)} |`,
    `| servers killed with SIGKILL and started again | ${r.kills.length} (${[...byDomain].map(([d, n]) => `${d} ${n}×`).join(", ")}) |`,
    `| messages lost (lower is better) | ${grouped.format(r.lost)} |`,
    `| messages shown twice (lower is better) | ${grouped.format(r.duplicated)} |`,
    `| messages read out of order (lower is better) | ${grouped.format(r.outOfOrder)} |`,
    `| messages reported unreadable (lower is better) | ${grouped.format(r.unreadable)} |`,
    `| messages the sender still shows unsent (lower is better) | ${grouped.format(r.notSent)} |`,
    `| whole run, s | ${seconds(r.durationMs)} |`,
  ];
  const kills = r.kills.map((k) => `${k.domain} before message ${grouped.format(k.atMessage)} (answering again after ${seconds(k.downMs)} s)`).join("; ");
  return [
    SOAK_TITLE,
    "",
    `Measured ${context.date.toISOString().replace(/\.\d+Z$/, "Z")} with \`${context.command}\`, EMSG at ${context.code}, on the machine above.`,
    "One sender streams numbered messages to a friend on the other domain, in their 1:1 conversation, whose hub is on the sender's domain;",
    "at positions drawn at random, one domain's workerd is killed with SIGKILL and started again on the same storage (killing the sender's",
    "domain kills the hub mid-fan-out), and each client connects again once its server answers. Then the receiver's history and the order",
    "in which its device read the messages are checked (PROTOCOL §6, Client duties).",
    "",
    rows.join("\n"),
    "",
    `Kills: ${kills}.`,
  ].join("\n");
}


