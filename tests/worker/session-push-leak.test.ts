import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import type { SessionServerFrame } from "../../shared/wire/index.js";
import { befriend, call, registered } from "./harness.js";
import { sessionOf } from "./hub-groups.js";
import { TestGroup } from "./mls.js";

/*
 * A session gets the entries its account is a recipient of, as the mailbox path does (PROTOCOL
 * §10): a member removed by a commit gets that commit, and nothing ordered after it in the same
 * round, though its session is closed only after the round's push (found by A, session 7).
 */
describe("a member removed by a commit", () => {
  it("is pushed that commit over its session and nothing ordered after it in the same round", async () => {
    const alice = await registered("spla");
    const bob = await registered("splb");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    const a = await sessionOf(alice, conversation);
    const b = await sessionOf(bob, conversation);
    const seen: SessionServerFrame[] = [];
    b.ws.addEventListener("message", (e) => seen.push(JSON.parse(e.data as string) as SessionServerFrame));
    const closed = new Promise<number>((resolve) => b.ws.addEventListener("close", (e) => resolve(e.code)));
    const removal = { id: randomId16(), epoch: 0, kind: "commit", mls: await group.commit(), roster: { remove: [bob.address] } };
    const after = { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() };
    a.ws.send(JSON.stringify({ t: "submits", submits: [removal, after] }));
    expect(await a.next()).toEqual({ t: "acks", acks: [{ id: removal.id, seq: 1 }, { id: after.id, seq: 2 }] });
    expect(await closed).toBe(4003);
    a.ws.close(1000, "bye");
    // The mailbox path leaves Bob out of the entry after his removal: the session must too.
    expect(seen.flatMap((f) => (f.t === "item" ? [f.item.id] : []))).toEqual([removal.id]);
  });
});
