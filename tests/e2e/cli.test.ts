import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCli } from "./cli-run.js";
import { type Pair, startPair, until } from "./harness.js";

let pair: Pair;
let home: string;

beforeAll(async () => {
  pair = await startPair(18827, 19827);
  home = await mkdtemp(join(tmpdir(), "emsg-e2e-cli-"));
});

afterAll(async () => {
  await pair?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs `npm run cli -- --state HOME/WHO ARGS…` the way a person would. */
const cli = (who: string, ...args: string[]): Promise<CliRun> => runCli(join(home, who), args, { EMSG_RESOLVE: pair.running.resolve });

describe("the command-line client", () => {
  // About 15 runs of the CLI, each starting Node and tsx: on a busy machine that takes over a minute.
  it("takes two people from registration to a delivered message", { timeout: 180_000 }, async () => {
    expect((await cli("alice", "register", "alice#im.alice.test")).out).toMatch(/^Registered alice#im\.alice\.test \(device [\w-]{22}\) at http:\/\/127\.0\.0\.1:18827\./);
    expect((await cli("bob", "register", "bob#im.bob.test", "--label", "phone")).code).toBe(0);
    expect((await cli("alice", "add", "bob#im.bob.test", "hi,", "it's", "Alice")).out).toContain("Friend request sent to bob#im.bob.test.");
    const requests = await until("Bob's requests to list Alice", async () => {
      const run = await cli("bob", "requests");
      return run.out.includes("alice#im.alice.test") && run.out;
    });
    expect(requests).toContain(`alice#im.alice.test: "hi, it's Alice"`);
    expect((await cli("bob", "accept", "alice#im.alice.test")).out).toContain("alice#im.alice.test: friend.");
    await until("Alice's friends to list Bob as a friend", async () => (await cli("alice", "friends")).out.includes("bob#im.bob.test  friend"));

    const aliceSees = (await cli("alice", "verify", "bob#im.bob.test")).out.split("\n")[1]!.trim();
    const bobSees = (await cli("bob", "verify", "alice#im.alice.test")).out.split("\n")[1]!.trim();
    expect(aliceSees).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(bobSees).toBe(aliceSees);

    expect((await cli("alice", "send", "bob#im.bob.test", "Hello", "Bob")).out).toMatch(/me: Hello Bob {2}\[sent\]/);
    const read = await until("Bob to read Alice's message", async () => {
      const run = await cli("bob", "read", "alice#im.alice.test");
      return run.out.includes("Hello Bob") && run.out;
    });
    expect(read).toMatch(/alice#im\.alice\.test: Hello Bob/);
    const overview = await until("Alice's message to show as delivered", async () => {
      const run = await cli("alice", "read", "bob#im.bob.test");
      return run.out.includes("[delivered") && run.out;
    });
    // Bob's read had it on screen: a read receipt (PROTOCOL §8.1).
    expect(overview).toMatch(/me: Hello Bob {2}\[delivered, read\]/);
  });

  it("listens: prints what arrives while connected, and stops on Ctrl-C", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/emsg.ts", "--state", join(home, "bob"), "listen"], {
      env: { ...process.env, EMSG_RESOLVE: pair.running.resolve },
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => void (out += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    try {
      await until("listen to connect", () => out.includes("listening as bob#im.bob.test"), 30_000);
      expect((await cli("alice", "send", "bob#im.bob.test", "are", "you", "listening?")).code).toBe(0);
      await until("listen to print Alice's message", () => out.includes("alice#im.alice.test: are you listening?"));
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  });

  it("changes settings and says what they are", async () => {
    const run = await cli("bob", "settings", "--strangers", "refuse", "--retention", "30");
    expect(run.out).toBe("strangers: refuse\nretention: 30 days\nread receipts and typing: on\n");
    expect((await cli("bob", "settings", "--receipts", "off")).out).toContain("read receipts and typing: off");
  });

  it("keeps a chat's own retention beside the account's, and refuses one out of bounds", async () => {
    const alice = "alice#im.alice.test";
    expect((await cli("bob", "retention", alice)).out).toBe(`${alice}: the account's retention\n`);
    expect((await cli("bob", "retention", alice, "1")).out).toBe(`${alice}: 1 day\n`);
    expect((await cli("bob", "retention", alice)).out).toBe(`${alice}: 1 day\n`);
    // Everything Alice wrote is younger than a day: the expiry each command runs first keeps it.
    expect((await cli("bob", "read", alice)).out).toContain(`${alice}: Hello Bob`);
    const refused = await cli("bob", "retention", alice, "0");
    expect([refused.code, refused.err]).toEqual([1, expect.stringContaining("Retention is 1 to 3650 days, or forever.")]);
    expect((await cli("bob", "retention", alice, "none")).out).toBe(`${alice}: keep forever\n`);
    expect((await cli("bob", "retention", alice, "default")).out).toBe(`${alice}: the account's retention\n`);
  });

  it("prints its usage for --help and help, and exits 0", async () => {
    for (const args of [["--help"], ["help"], ["send", "--help"]]) {
      const run = await cli("nobody", ...args);
      expect(run.code).toBe(0);
      expect(run.out).toContain("usage: npm run cli -- [--state DIR] COMMAND");
      expect(run.err).toBe("");
    }
  });

  it("deletes an account only once confirmed: --yes from a script", async () => {
    expect((await cli("dora", "register", "dora#im.alice.test")).code).toBe(0);
    const unconfirmed = await cli("dora", "delete-account");
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.err).toContain("add --yes to confirm");
    expect((await cli("dora", "whoami")).out).toContain("dora#im.alice.test");
    const confirmed = await cli("dora", "delete-account", "--yes");
    expect(confirmed.out).toContain("dora#im.alice.test is deleted");
    expect((await cli("dora", "whoami")).err).toContain("no account in this state directory");
  });

  it("lists no failed messages when all went out, and retry says there is none to send again", async () => {
    expect((await cli("alice", "help")).out).toContain("retry ADDRESS|GROUP ID ");
    expect((await cli("alice", "failed")).out).toBe("No message of yours failed to send.\n");
    const retry = await cli("alice", "retry", "bob#im.bob.test", "last");
    expect(retry.code).toBe(2);
    expect(retry.err).toContain("There is no message of yours that failed to send in bob#im.bob.test.");
  });

  it("explains a refusal in a plain sentence and exits non-zero", async () => {
    const run = await cli("alice", "send", "carol#im.bob.test", "hi");
    expect(run.code).toBe(1);
    expect(run.err).toContain("emsg: That is not allowed. (carol#im.bob.test is not your friend yet.)");
    const usage = await cli("alice", "frobnicate");
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('Unknown command "frobnicate".');
  });
});
