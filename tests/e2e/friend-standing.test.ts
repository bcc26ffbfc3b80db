// Before a friend request goes, the client asks the address's home server, through its own, whether
// the account exists (PROTOCOL §6, the device-list look-up), so the person hears at once of a name
// nobody has or a server that cannot be reached (a mistyped domain), not days later as a bounce.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { newClient, type Pair, removeClientDirs, startPair } from "./harness.js";

// Nothing listens there: the domain's server cannot be reached.
const DOWN = { "im.down.test": "http://127.0.0.1:19655" };

let pair: Pair;
let alice: EmsgClient;

beforeAll(async () => {
  pair = await startPair(19650, 20650, DOWN);
  alice = (await newClient(pair)).client;
  const bob = (await newClient(pair)).client;
  await alice.register("alice#im.alice.test", { label: "alice laptop" });
  await bob.register("bob#im.bob.test", { label: "bob phone" });
}, 120_000);

afterAll(async () => {
  alice?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("an address's standing, asked before a friend request", () => {
  it("is known for a registered account, none for a name nobody has, and unreachable for a server that cannot be reached", async () => {
    expect(await alice.accountStanding("bob#im.bob.test")).toBe("exists");
    expect(await alice.accountStanding("carol#im.bob.test")).toBe("none");
    expect(await alice.accountStanding("carol#im.alice.test")).toBe("none");
    expect(await alice.accountStanding("x#im.down.test")).toBe("unreachable");
  });

  it("lets a request to an unreachable server wait for it, as an outgoing request", async () => {
    expect((await alice.sendFriendRequest("x#im.down.test", "hi")).state).toBe("outgoing");
  });
});
