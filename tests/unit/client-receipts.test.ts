import { describe, expect, it } from "vitest";
import { GroupWorld } from "./group-world.js";

describe("delivery receipts and the chat list", () => {
  it("the chat list's last line shows the status the receipt gave the message, and keeps it after the device reads more", async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    await world.befriend(alice, bob);
    const sent = await alice.sendText(bob.address, "did you get this?");
    await alice.flush();
    await bob.sync();
    await bob.flush();
    await alice.sync();
    const line = (await alice.conversations()).find((c) => c.peer === bob.address)?.last;
    expect(line).toMatchObject({ id: sent.id, status: "delivered" });
    expect((await alice.history(bob.address)).find((m) => m.id === sent.id)?.status).toBe("delivered");
  });
});
