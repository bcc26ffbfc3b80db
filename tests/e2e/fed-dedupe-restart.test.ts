// PROTOCOL §7: a receiver answers a repeated federation item id with the result it got the first
// time, for 7 days. Against a real bob server killed and restarted between the two sends, and a
// rogue domain that signs correctly: the first result is read back from the Gate's period tables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { newClient } from "./harness.js";
import { type RogueWorld, startRogueWorld } from "./rogue.js";

let world: RogueWorld;

beforeAll(async () => {
  world = await startRogueWorld(19904, 20904, 19906);
}, 120_000);

afterAll(() => world?.stop());

type Result = { id: string; ok?: true; error?: string; message?: string };

/** A bounce of an item to the rogue's mallory, for `sender`: refused as not_found while no such account is here, delivered once there is one. */
function bounceFor(sender: string): Record<string, unknown> {
  return { id: randomId16(), kind: "bounce", sender, ref: randomId16(), to: "mallory#im.evil.test", error: "not_found" };
}

async function send(items: Record<string, unknown>[]): Promise<Result[]> {
  const sent = await world.rogue.inbox(world.pair.bob, "im.bob.test", items);
  expect(sent.status).toBe(200);
  return (sent.body as { results: Result[] }).results;
}

describe("federation dedupe across a restart of the receiving server", () => {
  it("answers a repeated id with its first result after bob's server was killed, though the item would now be judged otherwise", async () => {
    const first = bounceFor("carl#im.bob.test");
    const [before] = await send([first]);
    expect(before).toMatchObject({ id: first.id, error: "not_found" });

    // carl registers, then bob's server is killed hard and started again.
    const carl = (await newClient(world.pair)).client;
    await carl.register("carl#im.bob.test", { label: "carl phone" });
    await world.pair.running.stop("im.bob.test", { hard: true });
    await world.pair.running.restart("im.bob.test");

    // The same id, sent again in a batch with a new one for carl: the first result stands, the new item is judged afresh.
    const fresh = bounceFor("carl#im.bob.test");
    const [repeat, other] = await send([first, fresh]);
    expect(repeat).toEqual(before);
    expect(other).toEqual({ id: fresh.id, ok: true });
    // And the new one's result is kept too.
    const [again] = await send([fresh]);
    expect(again).toEqual(other);
  }, 120_000);
});
