import { statSync } from "node:fs";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Longest files first, so that the two lanes end together: a browser file takes ~30 s, an e2e
// file ~14 s, a worker or unit file one or two. File size breaks ties, as vitest's own does.
const weight: Record<string, number> = { browser: 0, e2e: 1, worker: 2, unit: 3, "unit-host-crypto": 3 };

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = (spec: TestSpecification) => statSync(spec.moduleId).size;
    return [...files].sort(
      (a, b) =>
        (weight[a.project.name] ?? 9) - (weight[b.project.name] ?? 9) || size(b) - size(a),
    );
  }
}
