import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pair, startPair, until } from "./harness.js";

// The README's command-line blocks, run line by line in the order printed, against two real local
// domains. Only what cannot be the same here changes: the servers' ports (this test's pair, not
// `npm start`'s) and where `.state/` is (a throw-away directory, not the repository's).

let pair: Pair;
let home: string;

beforeAll(async () => {
  pair = await startPair(18971, 19971);
  home = await mkdtemp(join(tmpdir(), "emsg-e2e-readme-"));
});

afterAll(async () => {
  await pair?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Every ```sh block of README.md made only of `npm run cli` commands and `export`s, as lines. */
async function cliBlocks(): Promise<string[][]> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split("\n").filter((l) => l.trim() !== ""));
  return blocks.filter((lines) => lines.every((l) => l.startsWith("npm run cli -- ") || l.startsWith("export ")));
}

interface Run {
  line: string;
  /** The exit code, or for a line ended with Ctrl-C, 0 when it ended on that signal as a terminal shows it. */
  code: number | null;
  out: string;
}

/** The resolver map the README exports, pointed at this test's servers for the same domains. */
function resolverFor(value: string): string {
  return value
    .split(",")
    .map((entry) => {
      const domain = entry.split("=")[0]!;
      const origin = pair.running.origins[domain];
      if (!origin) throw new Error(`The README names a domain the local pair does not serve: ${domain}`);
      return `${domain}=${origin}`;
    })
    .join(",");
}

/**
 * Runs one printed line with sh, from the repository's root as a reader would. A line that says
 * it stays connected (`listen`) is stopped with Ctrl-C (SIGINT to its process group) once it says so.
 */
function runLine(line: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const command = line.replaceAll(".state/", `${home}/.state/`);
  const stays = / listen\b/.test(line);
  return new Promise((done) => {
    const child = spawn("sh", ["-c", command], { env, detached: true });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 90_000);
    if (stays) {
      void until(`"${line}" to connect`, () => out.includes("listening as"), 60_000).then(() => process.kill(-child.pid!, "SIGINT"));
    }
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      // sh and npm end on the same Ctrl-C as the client, which ends by itself (its own exit 0 is not seen).
      done({ line, code: stays && signal === "SIGINT" ? 0 : code, out });
    });
  });
}

describe("the README", () => {
  it("runs its command-line blocks as printed, from registration to an edited, deleted reply", { timeout: 600_000 }, async () => {
    const blocks = await cliBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.EMSG_RESOLVE;
    const runs: Run[] = [];
    for (const line of blocks.flat()) {
      const exported = /^export (\w+)=(\S+)$/.exec(line);
      if (exported) {
        env[exported[1]!] = exported[1] === "EMSG_RESOLVE" ? resolverFor(exported[2]!) : exported[2]!;
        continue;
      }
      const run = await runLine(line, env);
      expect(run.code, `${line}\n${run.out}`).toBe(0);
      runs.push(run);
    }
    const out = (part: string) => runs.find((r) => r.line.includes(part))!.out;
    expect(out("cli-bob requests")).toContain(`alice#im.alice.test: "hi, it's Alice"`);
    expect(out("cli-alice verify")).toMatch(/(\d{5} ){11}\d{5}/);
    expect(out("cli-bob read alice")).toMatch(/alice#im\.alice\.test: Hello Bob/);
    expect(out("cli-bob listen")).toContain("listening as bob#im.bob.test");
    // Alice's read, after Bob's reply, her reaction and his edit: what her terminal shows.
    const aliceRead = out("cli-alice read bob");
    expect(aliceRead).toMatch(/me: Hello Bob {2}\[delivered, read\]/);
    expect(aliceRead).toMatch(/bob#im\.bob\.test: \(re [\w-]{6}: "Hello Bob"\) Hi Alice, good to hear from you \(edited\) {2}👍 1/);
    expect(out("cli-bob delete")).toMatch(/me: \(re [\w-]{6}\) \(deleted\)/);
    expect(out("nickname bob#im.bob.test Bobby")).toContain('bob#im.bob.test is "Bobby" on this device');
    expect(out("cli-alice friends")).toContain("Bobby (bob#im.bob.test)  friend");
    expect(out("nickname bob#im.bob.test --remove")).toContain("bob#im.bob.test has no nickname on this device now.");
  });
});
