import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { AccountStanding, ClientEvents, Friend } from "../../shared/client/index.js";
import { Emitter } from "../../shared/client/events.js";
import { EmsgError } from "../../shared/errors.js";
import { MemoryStore } from "../../shared/client/store.js";
import { type Locale, translator } from "../../ui/i18n/translate.js";
import type { AppContext } from "../../ui/view-models/app-context.js";
import { FriendsViewModel } from "../../ui/view-models/friends-model.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";

const BOB = "bob#im.bob.test" as Address;

/** Alice's Friends screen over a core that takes her requests and tells what becomes of them; its language can change. */
function friendsScreen(known: Friend[] = [], standing: AccountStanding = "exists") {
  const events = new Emitter<ClientEvents>();
  const request = (state: Friend["state"], extra: Partial<Friend> = {}): Friend => ({ address: BOB, accountKey: "", state, since: 1, ...extra });
  const sent: string[] = [];
  const client = {
    address: "alice#im.alice.test",
    events,
    friends: async () => known,
    accountStanding: async () => standing,
    sendFriendRequest: async (to: string) => {
      sent.push(to);
      events.emit("friend", request("outgoing"));
    },
    acceptFriend: () => Promise.reject(new EmsgError("not_found", "There is no friend request from bob#im.bob.test.")),
    withdrawFriendRequest: async () => events.emit("friend", request("declined")),
  };
  const app = { client, records: new LocalRecords(new MemoryStore()), locale: "en" as Locale, t: translator("en") };
  const friends = new FriendsViewModel(app as unknown as AppContext);
  const answer = (state: Friend["state"], extra: Partial<Friend> = {}) => events.emit("friend", request(state, extra));
  const speak = (locale: Locale) => Object.assign(app, { locale, t: translator(locale) });
  return { friends, answer, speak, sent };
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

describe("what the Friends screen says when a request cannot go", () => {
  it("says that a friend is one already, sends nothing and keeps the address typed", async () => {
    const { friends, sent } = friendsScreen([{ address: BOB, accountKey: "k", state: "friend", since: 1 }]);
    await friends.load();
    friends.setDraft(BOB);
    expect(await friends.add("")).toBe(false);
    expect(friends.error).toBe(`${BOB} is already your friend.`);
    expect([friends.draft, sent]).toEqual([BOB, []]);
  });

  it("names an address nobody has, in the screen's language, and sends nothing", async () => {
    const { friends, speak, sent } = friendsScreen([], "none");
    speak("zh-CN");
    await friends.load();
    friends.setDraft(BOB);
    expect(await friends.add("")).toBe(false);
    expect(friends.error).toBe(`账号 ${BOB} 不存在。`);
    expect([friends.draft, sent]).toEqual([BOB, []]);
  });

  it("sends to a server that cannot be reached now, but warns at once that it may be the address, in the screen's language", async () => {
    const { friends, speak, sent } = friendsScreen([], "unreachable");
    await friends.load();
    friends.setDraft(BOB);
    expect(await friends.add("")).toBe(true);
    expect(sent).toEqual([BOB]);
    expect(friends.notice).toBe(`Request to ${BOB} saved, but its server cannot be reached right now. It is tried again for 30 days: check the address if it does not arrive.`);
    expect(friends.noticeWarns).toBe(true);
    speak("zh-CN");
    expect(friends.notice).toBe(translator("zh-CN")("friends.sentWaiting", { address: BOB }));
    const reachable = friendsScreen();
    await sentToBob(reachable.friends);
    expect(reachable.friends.noticeWarns).toBe(false);
  });

  it("words the core's failures by their code in the screen's language", async () => {
    const { friends, speak } = friendsScreen();
    speak("zh-CN");
    expect(await friends.accept(BOB)).toBe(false);
    expect(friends.error).toBe(translator("zh-CN")("error.not_found"));
  });

  it("takes a waiting request back, and the note that it was sent with it", async () => {
    const { friends } = friendsScreen();
    await sentToBob(friends);
    expect(friends.outgoing.map((r) => r.canWithdraw)).toEqual([true]);
    expect(await friends.withdraw(BOB)).toBe(true);
    expect([friends.outgoing, friends.notice]).toEqual([[], null]);
  });

  it("takes a request that came back off the list", async () => {
    const { friends, answer } = friendsScreen();
    await sentToBob(friends);
    answer("outgoing", { bounced: "not_found" });
    expect(friends.undelivered.map((r) => [r.problem, r.canWithdraw])).toEqual([[`There is no account ${BOB}.`, true]]);
    expect(await friends.withdraw(BOB)).toBe(true);
    expect([friends.undelivered, friends.outgoing]).toEqual([[], []]);
  });
});
