import { afterEach, describe, expect, it, vi } from "vitest";
import { threeFriends } from "./group-world.js";

// Joining checks each new member's device against its home server's list (PROTOCOL §6, Revocation).
// A list that cannot be had right now for a reason no attacker causes must not cost the device the
// conversation: the Welcome comes once, and a Welcome not taken is gone for good.
describe("a Welcome while device lists cannot be had", { timeout: 60_000 }, () => {
  for (const code of ["unavailable", "peer_unreachable", "internal"] as const) {
    it(`is taken when the server answers ${code}, and the friend's messages are read`, async () => {
      const { world, alice, bob } = await threeFriends();
      world.deviceListsRefused = code;
      await alice.sendText(bob.address, "Hello Bob");
      await alice.flush();
      await bob.sync();
      const chat = (await bob.conversations()).find((c) => c.peer === alice.address);
      expect(chat?.unsafe).toBeUndefined();
      expect((await bob.history(alice.address)).map((m) => m.text)).toEqual(["Hello Bob"]);
    });
  }

  it("is refused when the server says the account is gone", async () => {
    const { world, alice, bob } = await threeFriends();
    world.deviceListsRefused = "gone";
    await alice.sendText(bob.address, "Hello Bob");
    await alice.flush();
    await bob.sync();
    expect((await bob.conversations()).find((c) => c.peer === alice.address)?.unsafe).toMatch(/an account its server no longer has/);
  });
});

// A list refused as rate_limited leaves nothing unchecked (anyone behind the device's IP can spend
// its tokens), and the Welcome is not lost for it either: it waits, and what came after it with it.
describe("a Welcome while device lists are refused as rate_limited", { timeout: 60_000 }, () => {
  afterEach(() => vi.useRealTimers());

  /** Alice writes `texts` to Bob, whose first sync meets a device list refused as rate_limited. */
  async function refusedOnce(...texts: string[]) {
    const { world, alice, bob } = await threeFriends();
    world.deviceListsRefused = "rate_limited";
    for (const text of texts) await alice.sendText(bob.address, text);
    await alice.flush();
    // From here the clock moves only when the test moves it.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 1 });
    await bob.sync();
    return { world, alice, bob };
  }

  it("waits, then is taken with the messages after it once the lists can be had", async () => {
    const { world, alice, bob } = await refusedOnce("Hello Bob", "Are you there?");
    expect((await bob.conversations()).find((c) => c.peer === alice.address)).toBeUndefined();

    world.deviceListsRefused = undefined;
    // Not before its backoff: the server that refused it is not asked again at once.
    await bob.sync();
    expect((await bob.conversations()).find((c) => c.peer === alice.address)).toBeUndefined();
    expect(bob.nextRetry).toBe(Date.now() + 5_000);
    // No mail comes meanwhile: the platform asks for the retry when it is due.
    vi.setSystemTime(bob.nextRetry!);
    await bob.retryDue();
    expect(bob.nextRetry).toBeUndefined();
    const chat = (await bob.conversations()).find((c) => c.peer === alice.address);
    expect(chat?.unsafe).toBeUndefined();
    expect((await bob.history(alice.address)).map((m) => m.text)).toEqual(["Hello Bob", "Are you there?"]);
  });

  it("is still checked once the lists can be had: a device its server no longer lists is refused", async () => {
    const { world, alice, bob } = await refusedOnce("Hello Bob");
    world.deviceListsRefused = "gone";
    vi.setSystemTime(Date.now() + 6_000);
    await bob.sync();
    expect((await bob.conversations()).find((c) => c.peer === alice.address)?.unsafe).toMatch(/an account its server no longer has/);
  });

  it("is dropped, with what waited behind it, after a day of refusals", async () => {
    const { world, alice, bob } = await refusedOnce("Hello Bob", "Are you there?");
    expect(await world.storeOf(bob).list("held/")).toHaveLength(1);
    vi.setSystemTime(Date.now() + 25 * 60 * 60_000);
    world.deviceListsRefused = undefined;
    await bob.sync();
    await bob.sync();
    expect((await bob.conversations()).find((c) => c.peer === alice.address)).toBeUndefined();
    expect(await world.storeOf(bob).get("welcomes/waiting")).toBeUndefined();
    expect(await world.storeOf(bob).list("held/")).toEqual([]);
  });
});
