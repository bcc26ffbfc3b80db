// `npm start` serves a copy of the PWA's build (scripts/start.mjs): `wrangler dev` reloads, closing
// every user's socket, whenever the directory it serves changes, and `npm test` in another terminal
// rebuilds dist/pwa. A domain started on a copy must not notice dist/pwa change.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDomains, startDomains } from "../../scripts/dev-servers.mjs";
import { until } from "./harness.js";

const ROOT = resolve(import.meta.dirname, "../..");
const DOMAIN = { name: "assets", domain: "im.alice.test", port: 19646, inspectorPort: 20646 };
const lines: string[] = [];
let root: string;
let copy: string;
let servers: RunningDomains;

const reloads = () => lines.filter((l) => /Reloading local server/.test(l)).length;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "emsg-e2e-assets-"));
  copy = join(root, "pwa");
  await mkdir(copy);
  await writeFile(join(copy, "index.html"), "<!doctype html><title>copy</title>");
  servers = await startDomains({ domains: [DOMAIN], persistRoot: join(root, "servers"), assets: copy, onLine: (_d, line) => void lines.push(line) });
}, 120_000);

afterAll(async () => {
  await servers?.stopAll();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("a domain serving a copy of the build", () => {
  it("serves the copy, keeps running while dist/pwa changes, and reloads only when its copy does", async () => {
    expect(await (await fetch(`http://127.0.0.1:${DOMAIN.port}/`)).text()).toContain("<title>copy</title>");
    const probe = join(ROOT, "dist", "pwa", `reload-probe-${process.pid}.txt`);
    await mkdir(join(ROOT, "dist", "pwa"), { recursive: true });
    await writeFile(probe, "a rebuild");
    // wrangler notices a change of its assets within about a second.
    await new Promise((r) => setTimeout(r, 4_000));
    await rm(probe, { force: true });
    expect(reloads()).toBe(0);
    await writeFile(join(copy, "index.html"), "<!doctype html><title>copy 2</title>");
    await until("the domain to reload its own copy", () => reloads() > 0, 30_000);
  }, 60_000);
});
