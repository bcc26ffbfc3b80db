// Sections of BENCHMARKS.md that runs of their own write (the crash soak, attachments, search): each
// replaces its own section, and a full `npm run bench`, which writes the rest anew, keeps them.
import { readFileSync } from "node:fs";

export const SOAK_TITLE = "## Crash soak: servers killed mid-stream";
export const ATTACHMENTS_TITLE = "## Attachments: a 100 MiB file over loopback";
export const SEARCH_TITLE = "## Message search: 100,000 messages in the PWA's store";
const OWN_RUNS = [SOAK_TITLE, ATTACHMENTS_TITLE, SEARCH_TITLE];

/** `report` with `section` (which starts with its title) in place of the section of that title, or before the changes section when it has none. */
export function withSection(report: string, section: string): string {
  const title = section.slice(0, section.indexOf("\n") >= 0 ? section.indexOf("\n") : undefined);
  const start = report.indexOf(title);
  if (start >= 0) {
    const end = report.indexOf("\n## ", start + title.length);
    return `${report.slice(0, start)}${section}${end >= 0 ? `\n${report.slice(end)}` : "\n"}`;
  }
  const before = report.indexOf("\n## Making EMSG faster");
  if (before < 0) return `${report.trimEnd()}\n\n${section}\n`;
  return `${report.slice(0, before)}\n${section}\n${report.slice(before)}`;
}

/** The section of `title` in `text`, if it has one. */
export function sectionOf(text: string, title: string): string | undefined {
  const start = text.indexOf(title);
  if (start < 0) return undefined;
  const end = text.indexOf("\n## ", start + title.length);
  return text.slice(start, end >= 0 ? end : undefined).trimEnd();
}

/** `report` with the own-run sections of the BENCHMARKS.md at `path` carried over. */
export function keepOwnRuns(report: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return report;
  }
  return OWN_RUNS.reduce((next, title) => {
    const section = sectionOf(text, title);
    return section ? withSection(next, section) : next;
  }, report);
}
