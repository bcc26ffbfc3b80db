import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import { randomId16 } from "../../shared/ids.js";
import {
  addMembers,
  createGroup,
  encrypt,
  type GroupState,
  joinFromWelcome,
  MAX_ADDS_PER_COMMIT,
  membersOf,
  processMessage,
} from "../../shared/mls/index.js";
import { type Device, makePerson, text, utf8 } from "./mls-people.js";

const ms = (since: number) => Math.round(performance.now() - since);

describe("timings a user would feel", () => {
  it("a 1:1 conversation sets up and carries messages both ways quickly", async () => {
    const [a] = (await makePerson("alice#im.alice.test")).devices as [Device];
    const [b] = (await makePerson("bob#im.bob.test")).devices as [Device];
    const t0 = performance.now();
    const added = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    let aState = added.state;
    let bState = (await joinFromWelcome(b.me, added.welcome, b.bundles)).state;
    const setup = ms(t0);

    const rounds = 100;
    const t1 = performance.now();
    for (let i = 0; i < rounds; i++) {
      const words = `message ${i}`;
      const sent = await encrypt(i % 2 ? bState : aState, utf8.encode(words));
      const got = await processMessage(i % 2 ? aState : bState, sent.mls);
      if (got.kind !== "application") throw new Error("expected an application message");
      expect(text(got.plaintext)).toBe(words);
      if (i % 2) [bState, aState] = [sent.state, got.state];
      else [aState, bState] = [sent.state, got.state];
    }
    const perMessage = (performance.now() - t1) / rounds;
    console.info(`MLS 1:1 setup ${setup} ms; encrypt+decrypt ${perMessage.toFixed(2)} ms/msg`);
    expect(setup).toBeLessThan(5_000);
    expect(perMessage).toBeLessThan(100);
  });

  it("a 50-member group sets up in commits of at most 20 devices and everyone reads the first message", { timeout: 120_000 }, async () => {
    const people = [];
    for (let i = 0; i < 50; i++) people.push(await makePerson(`member${i}#im.example.test`));
    const devices = people.map((p) => p.devices[0]!);
    const [creator, ...rest] = devices as [Device, ...Device[]];
    await expect(addMembers(await createGroup(creator.me, `im.example.test/${randomId16()}`), rest.map((d) => d.bundles[0]!.keyPackage)))
      .rejects.toMatchObject({ code: "too_large" });

    const t0 = performance.now();
    let creatorState = await createGroup(creator.me, `im.example.test/${randomId16()}`);
    const joined: GroupState[] = [];
    let largestSubmit = 0;
    let creatorMs = 0;
    let joinMs = 0;
    for (let from = 0; from < rest.length; from += MAX_ADDS_PER_COMMIT) {
      const batch = rest.slice(from, from + MAX_ADDS_PER_COMMIT);
      const tc = performance.now();
      const added = await addMembers(creatorState, batch.map((d) => d.bundles[0]!.keyPackage));
      creatorMs += performance.now() - tc;
      largestSubmit = Math.max(largestSubmit, added.commit.length + added.welcome.length);
      creatorState = added.state;
      for (const [i, s] of joined.entries()) joined[i] = (await processMessage(s, added.commit)).state;
      const tj = performance.now();
      for (const d of batch) joined.push((await joinFromWelcome(d.me, added.welcome, d.bundles)).state);
      joinMs += performance.now() - tj;
    }
    const setupMs = ms(t0);

    const sent = await encrypt(creatorState, utf8.encode("Welcome, all 49 of you"));
    for (const s of joined) {
      const got = await processMessage(s, sent.mls);
      expect(got.kind === "application" && text(got.plaintext)).toBe("Welcome, all 49 of you");
    }
    expect(joined).toHaveLength(49);
    expect(membersOf(joined[0]!)).toHaveLength(50);
    expect(largestSubmit).toBeLessThan(DEFAULT_LIMITS.maxBodyBytes - 4096);
    console.info(
      `MLS 50-member setup (3 commits, every device applying each): ${setupMs} ms in one thread; ` +
        `creator's commits ${Math.round(creatorMs)} ms; joins ${Math.round(joinMs / 49)} ms per device; ` +
        `largest commit+welcome ${Math.round(largestSubmit / 1024)} KiB of b64u`,
    );
  });
});
