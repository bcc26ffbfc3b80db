import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../shared/client/store.js";
import { dueWelcomes, keepWelcome, MOST_WAITING, welcomeWaits } from "../../shared/client/welcome-retries.js";
import type { ConvPayload } from "../../shared/wire/conversation.js";

const welcome = (conversation: string): ConvPayload =>
  ({ conversation, id: "AAAAAAAAAAAAAAAAAAAAAA", hubSeq: 1, from: "alice#im.alice.test", deviceId: "d", epoch: 1, type: "welcome", mls: "AA", at: 0 }) as unknown as ConvPayload;

describe("Welcomes kept to be tried again", () => {
  it("back off from 5 seconds, doubling", async () => {
    let now = 1_000_000;
    const ctx = { store: new MemoryStore(), clock: { now: () => now } };
    await keepWelcome(ctx, welcome("im.alice.test/c1"));
    expect((await dueWelcomes(ctx)).due).toEqual([]);
    now += 5_000;
    expect((await dueWelcomes(ctx)).due.map((w) => w.conversation)).toEqual(["im.alice.test/c1"]);
    await keepWelcome(ctx, welcome("im.alice.test/c1"));
    now += 9_999;
    expect((await dueWelcomes(ctx)).due).toEqual([]);
    now += 1;
    expect((await dueWelcomes(ctx)).due).toHaveLength(1);
  });

  it(`keep at most ${MOST_WAITING}, dropping the longest waiting`, async () => {
    let now = 1_000_000;
    const ctx = { store: new MemoryStore(), clock: { now: () => now } };
    for (let i = 0; i < MOST_WAITING; i++) {
      expect(await keepWelcome(ctx, welcome(`im.alice.test/c${i}`))).toEqual([]);
      now++;
    }
    expect(await keepWelcome(ctx, welcome("im.alice.test/last"))).toEqual(["im.alice.test/c0"]);
    expect(await welcomeWaits(ctx, "im.alice.test/c0")).toBe(false);
    expect(await welcomeWaits(ctx, "im.alice.test/c1")).toBe(true);
    expect(await welcomeWaits(ctx, "im.alice.test/last")).toBe(true);
  });
});
