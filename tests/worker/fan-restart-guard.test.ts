import { describe, expect, it } from "vitest";
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/index.js";
import { accountStub, call, type Device } from "./harness.js";
import { type ConvItem, hubState, restartHub, sessionOf, twoInConversation } from "./hub-groups.js";

/*
 * A hub acknowledges an entry once it is in its log, then hands it on in the background; where
 * its fan-out got is written when it likes (with a later log write, or once the fan-out stops).
 * Killed at any point of that, it loses nothing and doubles nothing a member sees: every entry
 * it acknowledged reaches each member's mailbox once, in hub order, through the next round's
 * fan-out or its alarm; one handed on twice is taken once by the mailbox.
 */

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every conversation item of a mailbox, page after page. */
async function allConvItems(d: Device): Promise<ConvItem[]> {
  const out: ConvItem[] = [];
  for (let after = 0; ; ) {
    const page = (await (await call(d, "GET", `/mailbox?after=${after}&limit=500`)).json()) as { items: MailItem[]; more: boolean };
    out.push(...page.items.filter((i): i is ConvItem => i.kind === "conv"));
    if (!page.more || page.items.length === 0) return out;
    after = page.items[page.items.length - 1]!.seq;
  }
}

describe("a hub killed while it hands a stream of entries on", () => {
  it("gets every entry of its log into the other member's mailbox once, in hub order", async () => {
    const { alice, bob, conv, group } = await twoInConversation("frga", "frgb");
    // Killed as the frame arrives, while its round is ordered, and while it is handed on.
    for (const wait of [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32]) {
      const { ws } = await sessionOf(alice, conv);
      const submits = await Promise.all(Array.from({ length: 40 }, async () => ({ id: randomId16(), epoch: 1, kind: "application", mls: await group.message() })));
      ws.send(JSON.stringify({ t: "submits", submits }));
      await pause(wait);
      await restartHub(conv);
    }
    const { lastSeq } = await hubState(alice, conv);
    expect(lastSeq).toBeGreaterThan(1);
    // What the last instance left is taken up by its alarm.
    const hub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conv));
    // Bob has the Welcome of the commit at 1 beside the commit itself.
    for (let i = 0; i < 5 && (await allConvItems(bob)).length < lastSeq + 1; i++) await runDurableObjectAlarm(hub);
    const items = await allConvItems(bob);
    expect(items.filter((item) => item.type === "welcome").map((item) => item.hubSeq)).toEqual([1]);
    expect(items.filter((item) => item.type !== "welcome").map((item) => item.hubSeq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
  }, 60_000);

  it("killed while the member's account is busy with its hand-over, hands it on again once that account is free: once, in order", async () => {
    const { alice, bob, conv, group } = await twoInConversation("frgc", "frgd");
    const hub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conv));
    let last = 1;
    for (let round = 0; round < 3; round++) {
      // Bob's account takes no call for a while: the hub's hand-over to it waits, and the hub is killed meanwhile.
      const busy = runInDurableObject(accountStub(bob.address), (_instance, state) => state.blockConcurrencyWhile(() => pause(300)));
      const { ws, next } = await sessionOf(alice, conv);
      const submits = await Promise.all(Array.from({ length: 20 }, async () => ({ id: randomId16(), epoch: 1, kind: "application", mls: await group.message() })));
      ws.send(JSON.stringify({ t: "submits", submits }));
      expect(await next()).toEqual({ t: "acks", acks: submits.map((s, i) => ({ id: s.id, seq: last + 1 + i })) });
      last += submits.length;
      await pause(20);
      await restartHub(conv);
      await busy;
    }
    for (let i = 0; i < 5 && (await allConvItems(bob)).length < last + 1; i++) await runDurableObjectAlarm(hub);
    const items = await allConvItems(bob);
    expect(items.filter((item) => item.type === "welcome").map((item) => item.hubSeq)).toEqual([1]);
    expect(items.filter((item) => item.type !== "welcome").map((item) => item.hubSeq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, 60_000);
});
