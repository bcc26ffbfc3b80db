import { describe, expect, it } from "vitest";
import { type Address, asAddress } from "../../shared/address.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import { Emitter } from "../../shared/client/events.js";
import { type Friend, getFriend, saveFriend, withdrawFriendRequest } from "../../shared/client/friends.js";
import { MemoryStore } from "../../shared/client/store.js";
import { EmsgError } from "../../shared/errors.js";

const BOB = asAddress("bob#im.bob.test");

/** Alice's core with a server that answers DELETE /friends/… as `answer` says, and what it was asked. */
function alice(answer: () => Promise<unknown>) {
  const asked: string[] = [];
  const events = new Emitter<ClientEvents>();
  const told: Friend[] = [];
  events.on("friend", (friend) => told.push(friend));
  const ctx = {
    store: new MemoryStore(),
    api: { call: (method: string, path: string) => (asked.push(`${method} ${path}`), answer()) },
    clock: { now: () => 5 },
    account: { address: asAddress("alice#im.alice.test") },
    events,
  } as unknown as CoreContext;
  return { ctx, asked, told };
}

const request = (extra: Partial<Friend> = {}): Friend => ({ address: BOB, accountKey: "", state: "outgoing", since: 1, requestId: "r1", ...extra });

describe("withdrawing a friend request", () => {
  it("asks the server to forget a waiting request, forgets it here and tells the lists", async () => {
    const { ctx, asked, told } = alice(async () => undefined);
    await saveFriend(ctx, request());
    await withdrawFriendRequest(ctx, BOB);
    expect(asked).toEqual([`DELETE /friends/${encodeURIComponent(BOB)}`]);
    expect(await getFriend(ctx, BOB)).toBeUndefined();
    expect(told.at(-1)).toMatchObject({ address: BOB, state: "declined" });
  });

  it("dismisses a request that bounced, which the server already dropped (not_found)", async () => {
    const { ctx } = alice(() => Promise.reject(new EmsgError("not_found", "That address is not on your list.")));
    await saveFriend(ctx, request({ bounced: "not_found" }));
    await withdrawFriendRequest(ctx, BOB);
    expect(await getFriend(ctx, BOB)).toBeUndefined();
  });

  it("keeps the request when the server could not be told", async () => {
    const { ctx } = alice(() => Promise.reject(new EmsgError("unavailable")));
    await saveFriend(ctx, request());
    await expect(withdrawFriendRequest(ctx, BOB)).rejects.toMatchObject({ code: "unavailable" });
    expect(await getFriend(ctx, BOB)).toMatchObject({ state: "outgoing" });
  });

  it("does not end a friendship", async () => {
    const { ctx, asked } = alice(async () => undefined);
    await saveFriend(ctx, request({ state: "friend", accountKey: "k" }));
    await expect(withdrawFriendRequest(ctx, BOB as Address)).rejects.toMatchObject({ code: "not_found" });
    expect(asked).toEqual([]);
  });
});
