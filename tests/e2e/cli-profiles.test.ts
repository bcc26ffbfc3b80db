import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCli } from "./cli-run.js";
import { type Pair, startPair, until } from "./harness.js";

// Display names and pictures from the command line (PROTOCOL §8.2), over two real domains.
let pair: Pair;
let home: string;

beforeAll(async () => {
  pair = await startPair(19164, 20164);
  home = await mkdtemp(join(tmpdir(), "emsg-e2e-cli-profiles-"));
});

afterAll(async () => {
  await pair?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs `npm run cli -- --state HOME/WHO ARGS…` the way a person would. */
const cli = (who: string, ...args: string[]): Promise<CliRun> => runCli(join(home, who), args, { EMSG_RESOLVE: pair.running.resolve });

// A 1x1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

describe("names and pictures on the command line", () => {
  it("Alice's set-name and set-avatar reach Bob's friends and read, her address beside her name, and a nickname Bob gives her shows on his device only", { timeout: 400_000 }, async () => {
    expect((await cli("alice", "register", "alice#im.alice.test")).code).toBe(0);
    expect((await cli("bob", "register", "bob#im.bob.test")).code).toBe(0);
    await cli("alice", "add", "bob#im.bob.test");
    await until("Bob to see Alice's request", async () => (await cli("bob", "requests")).out.includes("alice#im.alice.test"));
    expect((await cli("bob", "accept", "alice#im.alice.test")).code).toBe(0);
    await until("Alice to see Bob as a friend", async () => (await cli("alice", "friends")).out.includes("bob#im.bob.test  friend"));

    // Refused before anything is sent: a name with a direction override, a picture with no name, a file that is no picture.
    const bad = await cli("alice", "set-name", "Alice\u202Eecila");
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("no control, direction or invisible characters");
    expect((await cli("alice", "set-avatar", join(home, "none.png"))).err).toContain("Set your name first");

    expect((await cli("alice", "set-name", "Alice", "Liddell")).out).toContain('Your name is "Alice Liddell".');
    const notPicture = join(home, "notes.txt");
    await writeFile(notPicture, "hello");
    expect((await cli("alice", "set-avatar", notPicture)).err).toContain("is not a JPEG, PNG or WebP picture");
    const big = join(home, "big.png");
    await writeFile(big, Buffer.concat([PNG, Buffer.alloc(30_000)]));
    expect((await cli("alice", "set-avatar", big)).err).toContain("Shrink it to 256x256 first");
    const picture = join(home, "me.png");
    await writeFile(picture, PNG);
    expect((await cli("alice", "set-avatar", picture)).out).toContain(`Your picture is ${picture} (${PNG.length} bytes).`);
    expect((await cli("alice", "whoami")).out).toMatch(/^Alice Liddell \(with a picture\)\nalice#im\.alice\.test/);

    const friends = await until("Bob's friends to name Alice", async () => {
      const run = await cli("bob", "friends");
      return run.out.includes("Alice Liddell") && run.out;
    }, 60_000);
    expect(friends).toContain("Alice Liddell (alice#im.alice.test)  friend");

    expect((await cli("alice", "send", "bob#im.bob.test", "Tea?")).code).toBe(0);
    const read = await until("Bob to read Alice's message", async () => {
      const run = await cli("bob", "read", "alice#im.alice.test");
      return run.out.includes("Tea?") && run.out;
    }, 60_000);
    expect(read).toMatch(/ Alice Liddell \(alice#im\.alice\.test\): Tea\?/);
    expect((await cli("bob", "read")).out).toContain("Alice Liddell (alice#im.alice.test)  (0 unread)  Alice Liddell (alice#im.alice.test): Tea?");

    // A nickname Bob gives Alice, through the core's call the PWA uses: on his device only, over her name.
    expect((await cli("bob", "nickname", "alice#im.alice.test", "Al\u202Eice")).err).toContain("no control, direction or invisible characters");
    expect((await cli("bob", "nickname", "alice#im.alice.test", "Mum")).out).toContain('alice#im.alice.test is "Mum" on this device; nobody else sees it.');
    expect((await cli("bob", "nickname", "alice#im.alice.test")).out).toContain('alice#im.alice.test is "Mum" on this device.');
    expect((await cli("bob", "friends")).out).toContain("Mum (alice#im.alice.test)  friend");
    expect((await cli("bob", "read", "alice#im.alice.test")).out).toMatch(/ Mum \(alice#im\.alice\.test\): Tea\?/);
    expect((await cli("alice", "friends")).out).not.toContain("Mum");
    expect((await cli("bob", "nickname", "alice#im.alice.test", "--remove")).out).toContain("alice#im.alice.test has no nickname on this device now.");
    expect((await cli("bob", "friends")).out).toContain("Alice Liddell (alice#im.alice.test)  friend");
  });
});
