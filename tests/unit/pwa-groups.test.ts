import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";
import type { ConversationSummary, Friend, GroupNotice, MessageRecord } from "../../shared/client/index.js";
import { translator } from "../../ui/i18n/translate.js";
import { buildTimeline, type TimelineItem, type TimelineMessage } from "../../ui/view-models/timeline.js";
import { chatRows, chatSummary } from "../../ui/view-models/chat-list.js";
import { senderColour, senderLabels, type GroupLabels } from "../../ui/view-models/sender-label.js";
import { NewGroupViewModel, type NewGroupClient } from "../../ui/view-models/new-group-model.js";
import { GroupViewModel, type GroupClient } from "../../ui/view-models/group-model.js";
import type { PersonName } from "../../shared/client/display-names.js";

const t = translator("en");
const zh = translator("zh-CN");
const now = new Date(2026, 10, 25, 15, 0).getTime();
const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;
const carol = "carol#im.bob.test" as Address;
const dave = "dave#im.alice.test" as Address;
const otherBob = "bob#im.alice.test" as Address;

function group(self: Address, people: Address[]): GroupLabels {
  return { self, label: senderLabels(people) };
}

function said(id: string, from: Address, at: number, self = alice): TimelineMessage {
  return { id, from, at, mine: from === self, text: `text ${id}`, status: from === self ? "sent" : null, starred: false };
}

function notice(id: string, at: number, n: GroupNotice): TimelineMessage {
  return { id, from: n.by, at, mine: false, text: "", status: null, starred: false, notice: n };
}

const lines = (items: TimelineItem[]) =>
  items.flatMap((i) => (i.kind === "notice" ? [`— ${i.text}`] : i.kind === "message" ? [`${i.sender?.name ?? ""}|${i.text}|${i.startsRun}`] : []));

describe("group timeline", () => {
  it("names the sender above the first of each run of someone else's messages, and never above mine", () => {
    const items = buildTimeline(
      [said("1", bob, now - 50_000), said("2", bob, now - 40_000), said("3", carol, now - 30_000), said("4", alice, now - 20_000), said("5", carol, now - 10_000)],
      now, "en", t, group(alice, [alice, bob, carol]),
    );
    expect(lines(items)).toEqual(["bob|text 1|true", "|text 2|false", "carol|text 3|true", "|text 4|true", "carol|text 5|true"]);
    // Screen readers still hear who wrote each one.
    expect(items.flatMap((i) => (i.kind === "message" ? [i.author?.name ?? "-"] : []))).toEqual(["bob", "bob", "carol", "-", "carol"]);
  });

  it("shows group events as system lines in the reader's words, and a run starts again after one", () => {
    const items = buildTimeline(
      [
        notice("c", now - 90_000, { type: "created", by: alice }),
        notice("a", now - 80_000, { type: "added", by: bob, who: [carol, alice] }),
        said("m1", carol, now - 70_000),
        notice("r", now - 60_000, { type: "renamed", by: alice, title: "Weekend" }),
        said("m2", carol, now - 50_000),
        notice("x", now - 40_000, { type: "removed", by: alice, who: [carol] }),
        notice("l", now - 30_000, { type: "left", by: bob }),
      ],
      now, "en", t, group(alice, [alice, bob, carol]),
    );
    expect(lines(items)).toEqual([
      "— You created the group",
      "— bob added carol and you",
      "carol|text m1|true",
      "— You renamed the group to “Weekend”",
      "carol|text m2|true",
      "— You removed carol",
      "— bob left",
    ]);
    const zhItems = buildTimeline([notice("l", now, { type: "left", by: bob }), notice("a", now + 1, { type: "added", by: alice, who: [bob, carol] })], now, "zh-CN", zh, group(alice, [alice, bob, carol]));
    expect(lines(zhItems)).toEqual(["— bob 退出了群组", "— 你添加了 bob和carol"]);
  });

  it("keeps 1:1 chats as they were: no names, runs by side only", () => {
    const items = buildTimeline([said("1", bob, now - 2000), said("2", bob, now - 1000)], now, "en", t);
    expect(lines(items)).toEqual(["|text 1|true", "|text 2|false"]);
  });
});

describe("sender names and colours", () => {
  it("uses the part before # unless someone else in the group has the same one", () => {
    const label = senderLabels([alice, bob, otherBob, carol]);
    expect([label(alice).name, label(carol).name, label(bob).name, label(otherBob).name]).toEqual(["alice", "carol", bob, otherBob]);
  });

  it("gives a person the same colour in every group, and spreads people over the palette", () => {
    expect(senderLabels([bob])(bob).colour).toBe(senderLabels([alice, bob, carol, dave])(bob).colour);
    const colours = new Set(Array.from({ length: 40 }, (_, i) => senderColour(`user${i}#im.test`)));
    expect(colours.size).toBeGreaterThanOrEqual(6);
  });
});

function summary(over: Partial<ConversationSummary> = {}): ConversationSummary {
  return { conversation: "im.alice.test/g1", members: [alice, bob, carol], kind: "group", title: "Weekend", epoch: 1, lastHubSeq: 0, created: now - 100_000, unread: 0, ...over };
}

describe("groups in the chat list", () => {
  it("shows the title, the member count and the last message with its sender's name", () => {
    const rows = chatRows(
      [
        chatSummary(summary({ last: { id: "m", from: bob, text: "hi all", at: now - 1000, direction: "in", status: "received" }, unread: 1 }), alice),
        chatSummary(summary({ conversation: "im.alice.test/g2", title: "Solo", members: [alice], last: { id: "n", from: alice, text: "anyone?", at: now - 5000, direction: "out", status: "sent" } }), alice),
        chatSummary({ conversation: "im.bob.test/d", members: [alice, bob], peer: bob, kind: "direct", epoch: 1, lastHubSeq: 0, created: 1, unread: 0, last: { id: "d", from: bob, text: "yo", at: now - 9000, direction: "in", status: "received" } }, alice),
      ],
      null, now, "en", t,
    );
    expect(rows.map((r) => [r.title, r.membersLabel, r.preview, r.group])).toEqual([
      ["Weekend", "3 members", "bob: hi all", true],
      ["Solo", "1 member", "You: anyone?", true],
      [bob, "", "yo", false],
    ]);
  });

  it("names a group by its members until its name arrives", () => {
    expect(chatSummary(summary({ title: undefined }), alice).title).toBe(`${bob}, ${carol}`);
  });
});

function friend(address: Address, state: Friend["state"] = "friend", extra: Partial<Friend> = {}): Friend {
  return { address, accountKey: "k", state, since: 1, ...extra };
}

/** Names as PeopleNames resolves them: Bob and Dave set display names, Carol did not. */
const displayNames = (address: Address): PersonName => {
  const name = ({ [bob]: "Bob Builder", [dave]: "Dave" } as Record<string, string>)[address];
  return { address, name: name ?? address.split("#")[0]!, source: name ? "profile" : "address", withAddress: false };
};

describe("the New group dialog", () => {
  const friends = [friend(carol), friend(bob), friend(dave, "outgoing"), friend(otherBob, "friend", { movedTo: "bob#im.carol.test" as Address })];

  it("lists accepted friends only, asks for a name and two friends, then creates the group", async () => {
    const made: [string, string[]][] = [];
    const client: NewGroupClient = {
      friends: async () => friends,
      createGroup: async (title, members) => {
        made.push([title, members]);
        return summary({ title });
      },
    };
    const form = new NewGroupViewModel(client);
    await form.load();
    expect(form.picker.rows.map((r) => r.address)).toEqual([bob, carol]);
    expect(form.tooFewFriends).toBe(false);
    expect([form.titleProblem, form.membersProblem]).toEqual([null, null]);

    expect(await form.create()).toBeNull();
    expect([form.titleProblem, form.membersProblem]).toEqual(["group.nameMissing", "group.pickSome"]);
    form.setTitle("x".repeat(101));
    form.toggle(carol);
    expect(await form.create()).toBeNull();
    expect([form.titleProblem, form.membersProblem]).toEqual(["group.nameLong", "group.pickSome"]);
    expect(made).toEqual([]);

    form.setTitle("  Weekend ");
    form.toggle(bob);
    expect((await form.create())?.title).toBe("Weekend");
    expect(made).toEqual([["Weekend", [bob, carol]]]);
  });

  it("filters by search without losing what was checked, and shows the core's refusal as a sentence", async () => {
    const many = Array.from({ length: 12 }, (_, i) => friend(`f${String(i).padStart(2, "0")}#im.bob.test` as Address));
    const form = new NewGroupViewModel({ friends: async () => many, createGroup: async () => { throw new EmsgError("forbidden", "f03#im.bob.test is not your friend, so you cannot add them."); } });
    await form.load();
    expect(form.picker.searchable).toBe(true);
    form.toggle("f01#im.bob.test" as Address);
    form.setQuery("F03");
    expect(form.picker.rows.map((r) => r.address)).toEqual(["f03#im.bob.test"]);
    form.toggle("f03#im.bob.test" as Address);
    form.setQuery("");
    expect(form.picker.rows.filter((r) => r.checked).map((r) => r.address)).toEqual(["f01#im.bob.test", "f03#im.bob.test"]);
    form.setTitle("Team");
    expect(await form.create()).toBeNull();
    expect(form.error).toBe("f03#im.bob.test is not your friend, so you cannot add them.");
    expect(form.busy).toBe(false);
  });

  it("names friends by their display names with the address under it, as the friend list does, and finds them by either", async () => {
    const form = new NewGroupViewModel({ friends: async () => friends, createGroup: async () => summary() }, displayNames);
    await form.load();
    expect(form.picker.rows.map((r) => [r.name, r.detail])).toEqual([["Bob Builder", bob], [carol, ""]]);
    form.setQuery("builder");
    expect(form.picker.rows.map((r) => r.address)).toEqual([bob]);
    form.setQuery("bob#");
    expect(form.picker.rows.map((r) => r.address)).toEqual([bob]);
  });

  it("says a group needs friends when there are fewer than two", async () => {
    const form = new NewGroupViewModel({ friends: async () => [friend(bob)], createGroup: async () => summary() });
    await form.load();
    expect(form.tooFewFriends).toBe(true);
  });
});

/** The group calls of the client core, recorded; history and friends as given. */
function fakeGroupClient(self: Address, history: MessageRecord[] = [], friends: Friend[] = []) {
  const calls: string[] = [];
  const client: GroupClient = {
    address: self,
    friends: async () => friends,
    history: async () => history,
    renameGroup: async (_c, title) => void calls.push(`rename ${title}`),
    addToGroup: async (_c, members) => void calls.push(`add ${members.join(" ")}`),
    removeFromGroup: async (_c, members) => void calls.push(`remove ${members.join(" ")}`),
    leaveGroup: async () => void calls.push("leave"),
  };
  return { client, calls };
}

function noticeRecord(id: string, n: GroupNotice, self: Address): MessageRecord {
  return { id, conversation: "im.alice.test/g1", from: n.by, direction: n.by === self ? "out" : "in", text: "", at: now, status: "received", notice: n };
}

describe("group details", () => {
  it("lists members with you first, renames, and removes a member only after asking", async () => {
    const { client, calls } = fakeGroupClient(bob, [], [friend(alice), friend(carol), friend(dave)]);
    const model = new GroupViewModel(client, summary());
    expect(model.members.map((m) => [m.name, m.you])).toEqual([["bob", true], ["alice", false], ["carol", false]]);
    expect(model.membersLabel(t)).toBe("3 members");

    expect(await model.rename("   ")).toBe(false);
    expect(model.renameProblem).toBe("group.nameMissing");
    expect(await model.rename("Long weekend")).toBe(true);
    expect(model.renameProblem).toBeNull();

    const carolRow = model.members.find((m) => m.address === carol)!;
    expect(await model.removeConfirmed()).toBe(false);
    model.askRemove(carolRow);
    expect(model.confirm).toEqual({ kind: "remove", member: carolRow });
    expect(await model.removeConfirmed()).toBe(true);
    expect(model.confirm).toBeNull();

    await model.startAdding();
    expect(model.adding?.choices).toEqual([dave]);
    model.toggleAdding(dave);
    expect(await model.addChosen()).toBe(true);
    expect(model.adding).toBeNull();
    expect(calls).toEqual(["rename Long weekend", `remove ${carol}`, `add ${dave}`]);
  });

  it("lists the friends to add by their display names, with the address under each", async () => {
    const { client } = fakeGroupClient(bob, [], [friend(alice), friend(carol), friend(dave)]);
    const model = new GroupViewModel(client, summary(), displayNames);
    await model.startAdding();
    expect(model.adding?.rows.map((r) => [r.name, r.detail])).toEqual([["Dave", dave]]);
  });

  it("leaves only after asking, then says so where the composer was", async () => {
    const { client, calls } = fakeGroupClient(bob);
    const model = new GroupViewModel(client, summary());
    model.openDetails();
    expect(await model.leaveConfirmed()).toBe(false);
    model.askLeave(true);
    expect(await model.leaveConfirmed()).toBe(true);
    expect(calls).toEqual(["leave"]);
    expect([model.left, model.detailsOpen, model.ending]).toEqual([true, false, { key: "group.left" }]);
  });

  it("tells a removed member who removed them, also after the app was reopened", async () => {
    const removed = noticeRecord("x", { type: "removed", by: alice, who: [carol] }, carol);
    const { client } = fakeGroupClient(carol, [removed]);
    const model = new GroupViewModel(client, summary({ members: [alice, bob], left: true }));
    await model.load();
    expect(model.ending).toEqual({ key: "group.removedBy", name: "alice" });
    expect(t(model.ending!.key, { name: model.ending!.name! })).toBe("alice removed you from this group. You can still read it, but no longer send to it.");

    const live = new GroupViewModel(fakeGroupClient(carol).client, summary());
    expect(live.ending).toBeNull();
    live.noticed(removed);
    live.update(summary({ members: [alice, bob], left: true }));
    expect(live.ending).toEqual({ key: "group.removedBy", name: "alice" });
  });

  it("keeps names apart once a second person with the same name writes", () => {
    const model = new GroupViewModel(fakeGroupClient(alice).client, summary());
    const before = model.labels;
    expect(before.label(bob).name).toBe("bob");
    model.noticed({ id: "m", conversation: "im.alice.test/g1", from: otherBob, direction: "in", text: "hi", at: now, status: "received" });
    expect(model.labels).not.toBe(before);
    expect(model.labels.label(bob).name).toBe(bob);
  });
});
