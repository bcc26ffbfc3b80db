import { readdirSync, readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import LongestFirst from "./tests/sequencer";

// A unit file that hands the MLS code a host's crypto (useHost…, useNodeCrypto) changes it for the
// whole process, which no hook can take back: such files run isolated, so every other file runs the
// pure-JS code whatever the order.
const unitDir = new URL("./tests/unit/", import.meta.url);
const hostCryptoFiles = readdirSync(unitDir, { recursive: true, encoding: "utf8" })
  .filter((name) => name.endsWith(".test.ts") && /\buse(Host\w+|NodeCrypto)\(/.test(readFileSync(new URL(name, unitDir), "utf8")))
  .map((name) => `tests/unit/${name}`);

export default defineConfig({
  test: {
    reporters: ["default", "./tests/summary-reporter.ts"],
    // Two files at a time on a 2-core machine: a browser or e2e file leaves a core mostly idle
    // (Chromium and the servers wait on each other), and vitest's default would be one.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        // Inside workerd, against wrangler.toml; a small account bucket so rate limiting is observable.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                EMSG_DOMAIN: "im.alice.test",
                // Peers resolve to a closed loopback port: nothing outside this machine is ever asked.
                EMSG_RESOLVE: "im.bob.test=http://127.0.0.1:9,im.carol.test=http://127.0.0.1:9,im.dave.test=http://127.0.0.1:9",
                EMSG_RATE: "account=60:1,ip=100000:10000,peer=100000:10000",
              },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["tests/worker/**/*.test.ts"],
          globalSetup: ["tests/worker/global-setup.ts"],
          // Speed is measured by the benchmarks, not by timeouts: a loaded 2-core machine runs MLS-heavy cases 5x slower.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "unit",
          // A Node project's files share their worker's loaded modules (setup files still run for each
          // file): importing the client core and ts-mls afresh for every file cost most of a full run's
          // 435 s of import time (unit alone: 132 s → 52 s). Hooks restore what a file changes.
          isolate: false,
          include: ["tests/unit/**/*.test.ts"],
          exclude: hostCryptoFiles,
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "unit-host-crypto",
          include: hostCryptoFiles,
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // Two real servers per file (workerd, or `wrangler dev` where a test says so), driven through the client core's Node adapters.
          name: "e2e",
          isolate: false,
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/worker-bundle-setup.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "browser",
          isolate: false,
          include: ["tests/browser/**/*.test.ts"],
          environment: "node",
          globalSetup: ["tests/browser/global-setup.ts", "tests/worker-bundle-setup.ts"],
          setupFiles: ["tests/browser/failure-log-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // A screen that follows a background or server round trip may take seconds beside the worker tests.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
