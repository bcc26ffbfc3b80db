import { describe, expect, it } from "vitest";
import { pendingCommit, type PendingCommit } from "../../shared/client/own-commits.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { record, tripGroup } from "./group-world.js";

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
