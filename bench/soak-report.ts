// The crash soak's section of BENCHMARKS.md: written by `npm run bench -- --soak`, kept by full runs.
import { readFileSync } from "node:fs";
import type { RunContext } from "./report.js";
import type { SoakResult } from "./soak.js";

const TITLE = "## Crash soak: servers killed mid-stream";
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
    TITLE,
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

/** `report` with `section` in place of its crash soak section, or before the changes section when it has none. */
export function withSoakSection(report: string, section: string): string {
  const start = report.indexOf(TITLE);
  if (start >= 0) {
    const end = report.indexOf("\n## ", start + TITLE.length);
    return `${report.slice(0, start)}${section}${end >= 0 ? `\n${report.slice(end)}` : "\n"}`;
  }
  const before = report.indexOf("\n## Making EMSG faster");
  if (before < 0) return `${report.trimEnd()}\n\n${section}\n`;
  return `${report.slice(0, before)}\n${section}\n${report.slice(before)}`;
}

/** The crash soak section of the BENCHMARKS.md at `path`, if it has one: a full run keeps it. */
export function soakSectionOf(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const start = text.indexOf(TITLE);
  if (start < 0) return undefined;
  const end = text.indexOf("\n## ", start + TITLE.length);
  return text.slice(start, end >= 0 ? end : undefined).trimEnd();
}
