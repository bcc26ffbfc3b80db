import { describe, expect, it } from "vitest";
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
