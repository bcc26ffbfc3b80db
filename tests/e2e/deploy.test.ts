import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
// wrangler's bin script refuses Node 20, but its CLI itself runs there (as scripts/dev-servers.mjs does).
const WRANGLER_CLI = join("node_modules", "wrangler", "wrangler-dist", "cli.js");

describe("the Cloudflare deploy bundle", () => {
  let outdir: string;
  let output: string;

  beforeAll(async () => {
    // The Worker serves dist/pwa as its assets; the browser tests build it, a lone run builds it here.
    if (!existsSync(join("dist", "pwa", "index.html"))) await run(process.execPath, ["scripts/build.mjs"], { env: { ...process.env, NODE_ENV: "production" } });
    outdir = await mkdtemp(join(tmpdir(), "emsg-deploy-"));
    const result = await run(process.execPath, [WRANGLER_CLI, "deploy", "--dry-run", "--outdir", outdir], {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    output = result.stdout + result.stderr;
  }, 180_000);

  afterAll(async () => {
    if (outdir) await rm(outdir, { recursive: true, force: true });
  });

  it("builds with `wrangler deploy --dry-run`: the Worker, its five Durable Objects and the PWA's assets", async () => {
    for (const binding of ["env.ACCOUNT (AccountObject)", "env.CONVERSATION (ConversationObject)", "env.OUTBOX (OutboxObject)", "env.SERVER (ServerObject)", "env.GATE (GateObject)", "env.ASSETS"]) {
      expect(output).toContain(binding);
    }
    expect(output).toMatch(/Read [1-9]\d* files? from the assets directory/);
    const bundle = await readFile(join(outdir, "index.js"), "utf8");
    for (const exported of ["AccountObject", "ConversationObject", "OutboxObject", "ServerObject", "GateObject"]) expect(bundle).toContain(exported);
    // The bundle must never carry a server key or a dev resolver map: both are configuration.
    expect(bundle).not.toContain("127.0.0.1:8787");
  });
});
