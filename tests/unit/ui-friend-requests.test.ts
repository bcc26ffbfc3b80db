import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { ClientEvents, Friend } from "../../shared/client/index.js";
import { Emitter } from "../../shared/client/events.js";
import { MemoryStore } from "../../shared/client/store.js";
import { type Locale, translator } from "../../ui/i18n/translate.js";
import type { AppContext } from "../../ui/view-models/app-context.js";
import { FriendsViewModel } from "../../ui/view-models/friends-model.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";

const BOB = "bob#im.bob.test" as Address;

/** Alice's Friends screen over a core that takes her requests and tells what becomes of them; its language can change. */
function friendsScreen() {
  const events = new Emitter<ClientEvents>();
  const request = (state: Friend["state"], extra: Partial<Friend> = {}): Friend => ({ address: BOB, accountKey: "", state, since: 1, ...extra });
  const client = {
    address: "alice#im.alice.test",
    events,
    friends: async () => [],
    sendFriendRequest: async () => events.emit("friend", request("outgoing")),
  };
  const app = { client, records: new LocalRecords(new MemoryStore()), locale: "en" as Locale, t: translator("en") };
  const friends = new FriendsViewModel(app as unknown as AppContext);
  const answer = (state: Friend["state"], extra: Partial<Friend> = {}) => events.emit("friend", request(state, extra));
  const speak = (locale: Locale) => Object.assign(app, { locale, t: translator(locale) });
  return { friends, answer, speak };
}

async function sentToBob(friends: FriendsViewModel): Promise<void> {
  await friends.load();
  friends.setDraft(BOB);
  expect(await friends.add("")).toBe(true);
  expect(friends.notice).toBe(`Request sent to ${BOB}.`);
}

describe("the note that a friend request was sent", () => {
  it("is in the language now chosen, not the one it was sent in", async () => {
    const { friends, speak } = friendsScreen();
    await sentToBob(friends);
    speak("zh-CN");
    expect(friends.notice).toBe(translator("zh-CN")("friends.sent", { address: BOB }));
  });

  it("goes once the request is accepted", async () => {
    const { friends, answer } = friendsScreen();
    await sentToBob(friends);
    answer("friend");
    expect(friends.notice).toBeNull();
  });

  it("goes once the request came back undelivered, which is listed with its reason", async () => {
    const { friends, answer } = friendsScreen();
    await sentToBob(friends);
    answer("outgoing", { bounced: "stranger_refused" });
    expect(friends.notice).toBeNull();
    expect(friends.undelivered.map((r) => r.address)).toEqual([BOB]);
  });

  it("goes when the screen is left", async () => {
    const { friends } = friendsScreen();
    await sentToBob(friends);
    friends.leave();
    expect(friends.notice).toBeNull();
  });
});
