import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { befriend, openTab, register, startWorld, type Person, type PwaWorld } from "./pwa-harness.js";

// What the Friends screen says and offers when a request cannot go through, told in order.
describe("friend requests that cannot go through, in the PWA", () => {
  let world: PwaWorld;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    world = await startWorld({ portBase: 19340, inspectorBase: 20340 });
    alice = await register(world, world.alice, "im.alice.test", "alice");
    bob = await register(world, world.bob, "im.bob.test", "bob");
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  const field = () => alice.page.getByLabel("Address or emsg: link");
  const send = async (address: string) => {
    await field().fill(address);
    await alice.page.getByRole("button", { name: "Send request" }).click();
  };

  it("names an address no account has, and keeps it in the field", async () => {
    await openTab(alice.page, "Friends");
    await send("bob2#im.bob.test");
    await alice.page.getByRole("alert").getByText("There is no account bob2#im.bob.test.").waitFor({ timeout: 20_000 });
    expect(await field().inputValue()).toBe("bob2#im.bob.test");
  });

  it("lets a request that waits on a server out of reach be cancelled", async () => {
    await send("x#no-such-domain.example");
    const row = alice.page.getByTestId("outgoing").getByTestId("person").filter({ hasText: "x#no-such-domain.example" });
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: "Cancel request" }).click();
    await row.waitFor({ state: "detached" });
    expect(await alice.page.getByText("x#no-such-domain.example").count()).toBe(0);
    // Taken back on the server too: still gone after a reload.
    await alice.page.reload();
    await openTab(alice.page, "Friends");
    await alice.page.getByTestId("my-address").waitFor();
    expect(await alice.page.getByText("x#no-such-domain.example").count()).toBe(0);
  });

  it("says why a request came back, naming them, and lets it be dismissed", async () => {
    await openTab(bob.page, "Settings");
    await bob.page.getByLabel("Refuse strangers; only friends reach me").check();
    await bob.page.getByText("Saved").waitFor();
    await send(bob.address);
    const row = alice.page.getByTestId("undelivered").getByTestId("person").filter({ hasText: bob.address });
    await row.getByText(`${bob.address} only accepts messages from friends.`).waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: "Dismiss" }).click();
    await row.waitFor({ state: "detached" });
    await bob.page.getByLabel("Accept friend requests from anyone").check();
    await bob.page.getByText("Saved").waitFor();
  });

  it("says that a friend is one already, and keeps the address in the field", async () => {
    await befriend(alice, bob);
    await send(bob.address);
    await alice.page.getByRole("alert").getByText(`${bob.address} is already your friend.`).waitFor();
    expect(await field().inputValue()).toBe(bob.address);
  });
});
