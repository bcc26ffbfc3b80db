import { afterEach, describe, expect, it, vi } from "vitest";
import { threeFriends } from "./group-world.js";

// A chat is listed by each message's sentAt (ties by its random id): texts written within one
// millisecond must still show in the order they were written, on both sides.
describe("texts written within one millisecond", { timeout: 60_000 }, () => {
  afterEach(() => vi.useRealTimers());

  it("show in the order they were written, for the writer and the reader", async () => {
    const { alice, bob } = await threeFriends();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const lines = ["one", "two", "three", "four", "five", "six"];
    const sent = [];
    for (const line of lines) sent.push(await alice.sendText(bob.address, line));
    expect(new Set(sent.map((m) => m.at)).size).toBe(lines.length);
    await alice.flush();
    await bob.sync();
    expect((await alice.history(bob.address)).map((m) => m.text)).toEqual(lines);
    expect((await bob.history(alice.address)).map((m) => m.text)).toEqual(lines);
  });
});
