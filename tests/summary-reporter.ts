import { relative } from "node:path";
import type { Reporter, TestModule } from "vitest/node";

/** How many failed tests' logs (tests/browser/failure-log.ts) are repeated after the run. */
const LOGS_SHOWN = 2;

/** Prints the plain closing line `N passed, N failed, N skipped` that CI reads, after vitest's own summary. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = errors.length;
    let skipped = 0;
    const logs: string[] = [];
    for (const mod of modules) {
      if (mod.state() === "failed" && [...mod.children.allTests()].length === 0) failed++;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
        const log = (test.meta() as { failureLog?: string }).failureLog;
        if (state === "failed" && log && logs.length < LOGS_SHOWN) logs.push(`\nWhat the pages and servers said before "${test.fullName}" failed (${relative(process.cwd(), test.module.moduleId)}):\n${log}`);
      }
    }
    // A CI log is often read from its tail: the first failures' own story goes there, next to the totals.
    process.stdout.write(`${logs.join("\n")}\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
