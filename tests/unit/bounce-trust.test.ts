import { describe, expect, it } from "vitest";
import { pendingCommit, type PendingCommit } from "../../shared/client/own-commits.js";
import { pending } from "../../shared/client/outgoing-queue.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/mail.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { record, tripGroup, type GroupWorld } from "./group-world.js";

function bounceFor(world: GroupWorld, client: EmsgClient, ref: string, error: string, conversation: string) {
  const mailbox = world.accounts.get(client.address)!.mailbox;
  return (to: string, about = conversation) => {
    mailbox.push({ kind: "bounce", ref, to, error, conversation: about, seq: mailbox.length + 1, at: Date.now() } as MailItem);
    return client.sync();
  };
}

// A commit of Carol's waits for its remote hub's answer (PROTOCOL §6: her server took it, 202 without
// seq). Only the hub can refuse it, in a bounce naming Carol; Bob's server, refusing Bob's own copy
// once it was ordered (or lying), names Bob. Taken as the hub's word, Carol's device dropped its
// commit, then skipped it when it came back in hub order, and fell out of the group.
describe("a bounce of a commit waiting for a remote hub", { timeout: 60_000 }, () => {
  it("is the hub's refusal only when it names this account: another member's leaves the commit waiting", async () => {
    const { world, bob, carol, conversation } = await tripGroup();
    const state = (await record(world, carol, conversation))!;
    const id = randomId16();
    const waiting: PendingCommit = { conversation, submit: { id, epoch: state.epoch, kind: "commit", mls: "AA" }, group: state.group, epoch: state.epoch + 1, forwarded: true };
    await world.storeOf(carol).put(`commit/${conversation}`, waiting);
    const mailbox = world.accounts.get(carol.address)!.mailbox;
    const bounce = (to: string): MailItem => ({ kind: "bounce", ref: id, to, error: "stale_epoch", conversation, seq: mailbox.length + 1, at: Date.now() }) as MailItem;

    mailbox.push(bounce(bob.address));
    await carol.sync();
    expect(await pendingCommit({ store: world.storeOf(carol) }, conversation)).toEqual(waiting);

    mailbox.push(bounce(carol.address));
    await carol.sync();
    expect(await pendingCommit({ store: world.storeOf(carol) }, conversation)).toBeUndefined();
  });
});

// The same holds for what else waits for the hub's answer: a lying member's server (or one refusing its
// own recipient) must not stop a conversation over a veto the hub never refused, nor make a device send
// a text again as often as it likes.
describe("other bounces only the hub can send", { timeout: 60_000 }, () => {
  it("a veto waiting for its remote hub is refused only by a bounce naming this account in its conversation", async () => {
    const { world, bob, carol, conversation } = await tripGroup();
    const id = randomId16();
    await world.storeOf(carol).put(`vetoSent/${id}`, conversation);
    const bounce = bounceFor(world, carol, id, "conflict", conversation);

    await bounce(bob.address);
    await bounce(carol.address, `${conversation.split("/")[0]}/${randomId16()}`);
    expect((await record(world, carol, conversation))!.unsafe).toBeUndefined();

    await bounce(carol.address);
    expect((await record(world, carol, conversation))!.unsafe).toMatch(/would not undo it \(conflict\)/);
  });

  it("a text is sent again on a stale_epoch bounce only when the hub's names this account", async () => {
    const { world, bob, carol, conversation } = await tripGroup();
    world.forwarded.add(carol.address);
    const sent = await carol.sendText(conversation, "see you at eight");
    await carol.flush();
    const bounce = bounceFor(world, carol, sent.id, "stale_epoch", conversation);

    await bounce(bob.address);
    expect(await pending({ store: world.storeOf(carol) })).toEqual([]);

    // Bob not reached is no failure of a group message Alice has.
    expect((await carol.history(conversation, { limit: 5 })).at(-1)).toMatchObject({ text: "see you at eight", status: "sent" });

    await bounce(carol.address);
    expect((await pending({ store: world.storeOf(carol) })).map((e) => e.content)).toEqual([expect.objectContaining({ id: sent.id, text: "see you at eight" })]);
  });

  it("a late stale_epoch bounce of a submission the text was sent again after sends it no more", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    world.forwarded.add(carol.address);
    const sent = await carol.sendText(conversation, "dinner at nine");
    await carol.flush();
    const store = world.storeOf(carol);
    // Alice's commit (Bob removed) was ordered first: the hub refused Carol's text, which goes again past it.
    await alice.removeFromGroup(conversation, [bob.address]);
    await alice.flush();
    await bounceFor(world, carol, sent.id, "stale_epoch", conversation)(carol.address);
    expect(await pending({ store })).toEqual([]);
    const again = world.log.filter((l) => l.from === carol.address && l.submit.kind === "application").map((l) => l.submit.id);
    expect(again).toEqual([sent.id, expect.not.stringMatching(sent.id)]);

    // The hub refused the first submission once; its bounce again (late, or a server's replay) is no refusal of the second.
    await bounceFor(world, carol, sent.id, "stale_epoch", conversation)(carol.address);
    expect(await pending({ store })).toEqual([]);
    expect((await carol.history(conversation, { limit: 5 })).find((m) => m.id === sent.id)).toMatchObject({ text: "dinner at nine", status: "sent" });

    await bounceFor(world, carol, again[1]!, "stale_epoch", conversation)(carol.address);
    expect((await pending({ store })).map((e) => e.content.id)).toEqual([sent.id]);
  });
});
