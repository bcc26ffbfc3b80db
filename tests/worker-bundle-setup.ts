import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { bundleWorkerInto } from "../scripts/workerd-servers.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Worker bundled once for the run, as `wrangler deploy` uploads it (the e2e and browser tests' servers run it). */
    workerBundle: string;
  }
}

/** Bundles the Worker once for every end-to-end and browser file: each pair of servers then starts in about a second. */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "emsg-worker-bundle-"));
  bundleWorkerInto(dir);
  project.provide("workerBundle", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
