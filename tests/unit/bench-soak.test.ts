import { describe, expect, it } from "vitest";
import type { RunContext } from "../../bench/report.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTACHMENTS_TITLE, keepOwnRuns, SEARCH_TITLE, SOAK_TITLE, withSection } from "../../bench/report-sections.js";
import { renderSoakSection } from "../../bench/soak-report.js";
import type { SoakResult } from "../../bench/soak.js";

const context: RunContext = {
  date: new Date("2026-12-04T15:00:00.123Z"),
  command: "npm run bench -- --soak",
  code: "commit abc1234",
  machine: { cpu: "Test CPU", cores: 2, memoryBytes: 8 * 2 ** 30, os: "Linux 6.1", node: "v20.20.2", loadAverage: 0.5 },
};

const result: SoakResult = {
  messages: 5000, lost: 0, duplicated: 0, outOfOrder: 1, unreadable: 0, notSent: 0, durationMs: 151_250,
  kills: [
    { domain: "im.bob.test", atMessage: 812, downMs: 3200 },
    { domain: "im.alice.test", atMessage: 2400, downMs: 4100 },
  ],
};

const report = "# EMSG benchmarks\n\n## PWA: first load\n\ntable\n\n## Making EMSG faster: what changed\n\nhistory\n";

describe("crash soak section of BENCHMARKS.md", () => {
  it("says what was killed where, and counts lost, repeated and reordered messages", () => {
    const section = renderSoakSection(result, context);
    expect(section).toContain("Measured 2026-12-04T15:00:00Z with `npm run bench -- --soak`, EMSG at commit abc1234");
    expect(section).toContain("| messages streamed | 5,000 |");
    expect(section).toContain("| servers killed with SIGKILL and started again | 2 (im.bob.test 1×, im.alice.test 1×) |");
    expect(section).toContain("| messages read out of order (lower is better) | 1 |");
    expect(section).toContain("im.bob.test before message 812 (answering again after 3.2 s)");
  });

  it("goes before the history of changes, and a later soak replaces it rather than adding another", () => {
    const first = withSection(report, renderSoakSection(result, context));
    expect(first.indexOf("## Crash soak")).toBeGreaterThan(first.indexOf("## PWA"));
    expect(first.indexOf("## Crash soak")).toBeLessThan(first.indexOf("## Making EMSG faster"));
    const again = withSection(first, renderSoakSection({ ...result, outOfOrder: 0 }, context));
    expect(again.match(/## Crash soak/g)).toHaveLength(1);
    expect(again).toContain("| messages read out of order (lower is better) | 0 |");
    expect(again).toContain("## Making EMSG faster: what changed\n\nhistory\n");
  });
});

describe("sections of BENCHMARKS.md that runs of their own write", () => {
  it("a full run's new report keeps the crash soak, attachments and search sections of the file it replaces", () => {
    const dir = mkdtempSync(join(tmpdir(), "emsg-bench-"));
    const path = join(dir, "BENCHMARKS.md");
    const old = ["# Benchmarks", "", "## Federated: old", "old rows", "", `${SOAK_TITLE}`, "soak rows", "", `${ATTACHMENTS_TITLE}`, "attachment rows", "", `${SEARCH_TITLE}`, "search rows", "", "## Making EMSG faster: what changed", "notes", ""].join("\n");
    writeFileSync(path, old);
    const fresh = ["# Benchmarks", "", "## Federated: new", "new rows", "", "## Making EMSG faster: what changed", "notes", ""].join("\n");
    const kept = keepOwnRuns(fresh, path);
    expect(kept).toContain("new rows");
    expect(kept).not.toContain("old rows");
    for (const rows of ["soak rows", "attachment rows", "search rows"]) expect(kept).toContain(rows);
    expect(kept.indexOf(SEARCH_TITLE)).toBeLessThan(kept.indexOf("## Making EMSG faster"));
    rmSync(dir, { recursive: true });
  });
});
