import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { type GroupWorld, syncAll, tripGroup } from "./group-world.js";

// A conv item's `from` and `deviceId` are the hub's word; MLS says who wrote it (PROTOCOL §8). A
// client checks the two against each other and refuses an item whose hub names another author.

/** Rewrites who the newest entry in `client`'s mailbox claims to be from, as a hostile server could. */
function relabelLast(world: GroupWorld, client: EmsgClient, as: EmsgClient, deviceId = as.account!.deviceId): void {
  const box = world.accounts.get(client.address)!.mailbox;
  const last = box[box.length - 1]! as { from: string; deviceId: string };
  last.from = as.address;
  last.deviceId = deviceId;
}

const texts = async (client: EmsgClient, conversation: string) => (await client.history(conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => m.text);
const notices = async (client: EmsgClient, conversation: string) => (await client.history(conversation, { limit: 500 })).flatMap((m) => (m.notice ? [m.notice.type] : []));

describe("a conv item's author", { timeout: 60_000 }, () => {
  it("a text whose hub entry names another member as its author is not shown, and is reported as unreadable", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    await carol.sendText(conversation, "send the money to me");
    await carol.flush();
    relabelLast(world, bob, alice);
    await syncAll(bob);
    expect(await texts(bob, conversation)).not.toContain("send the money to me");
    expect(await notices(bob, conversation)).toContain("unreadable");
    // The group goes on: what comes next with an honest entry is read.
    await alice.sendText(conversation, "hello all");
    await alice.flush();
    await syncAll(bob);
    expect(await texts(bob, conversation)).toContain("hello all");
  });

  it("the right account but another device of it is refused too", async () => {
    const { world, bob, carol, conversation } = await tripGroup();
    await carol.sendText(conversation, "from my phone");
    await carol.flush();
    relabelLast(world, bob, carol, "AAAAAAAAAAAAAAAAAAAAAA");
    await syncAll(bob);
    expect(await texts(bob, conversation)).not.toContain("from my phone");
  });

  it("a commit whose hub entry names another author leaves the conversation marked unsafe, saying why", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const dave = await world.person("dave#im.alice.test");
    await world.befriend(alice, dave);
    await alice.addToGroup(conversation, [dave.address]);
    await alice.flush();
    // Bob's last entries are the commit and then the group's name for Dave; the commit is relabelled.
    const box = world.accounts.get(bob.address)!.mailbox;
    const commit = box.findLast((i) => (i as { type?: string }).type === "commit")! as { from: string; deviceId: string };
    commit.from = carol.address;
    commit.deviceId = carol.account!.deviceId;
    await syncAll(bob);
    const summary = (await bob.conversations()).find((c) => c.conversation === conversation)!;
    expect(summary.unsafe).toMatch(/server says carol#im\.bob\.test .* but it is from alice#im\.alice\.test/);
  });
});
