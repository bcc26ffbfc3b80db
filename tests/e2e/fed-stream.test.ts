// Federation streams (PROTOCOL §7) between a real server and a peer: batches go on one WebSocket
// when the peer takes streams, by POST when it answers their opening 404 (an earlier version), and
// a batch whose stream closed before its answer reaches the peer again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { newClient, type Pair, removeClientDirs, startPair, until } from "./harness.js";
import { type Rogue, startRogue } from "./rogue.js";

const STREAM = "/emsg/v1/federation/stream";
const INBOX = "/emsg/v1/federation/inbox";

let pair: Pair;
let streaming: Rogue;
let posting: Rogue;
let alice: EmsgClient;

beforeAll(async () => {
  streaming = await startRogue("im.streams.test", 19042, { streams: true });
  posting = await startRogue("im.posts.test", 19043);
  pair = await startPair(19040, 20040, { [streaming.domain]: streaming.origin, [posting.domain]: posting.origin });
  alice = (await newClient(pair)).client;
  await alice.register("alice#im.alice.test", { label: "alice laptop" });
}, 120_000);

afterAll(async () => {
  alice?.disconnect();
  await pair?.stop();
  await streaming?.close();
  await posting?.close();
  await removeClientDirs();
});

/** The ids of the friend requests a peer was sent, by the path they came on. */
function requestIds(rogue: Rogue, path: string): string[] {
  return rogue.received.filter((r) => r.path === path).flatMap((r) => ((r.body as { items?: { id: string; kind: string }[] })?.items ?? []).filter((i) => i.kind === "friend_request").map((i) => i.id));
}

describe("federation streams", () => {
  it("sends a peer that takes streams its batches on one, signed once, and none by POST", async () => {
    await alice.sendFriendRequest("carol#im.streams.test", "hi Carol");
    await alice.sendFriendRequest("dave#im.streams.test", "hi Dave");
    await until("both requests reached the peer", () => requestIds(streaming, STREAM).length === 2);
    expect(requestIds(streaming, INBOX)).toEqual([]);
    expect(streaming.streamsOpened()).toBe(1);
    expect(streaming.received.every((r) => r.from === "im.alice.test")).toBe(true);
  });

  it("sends a batch again when the stream closes before its answer, and the peer's answer settles it", async () => {
    streaming.dropStreamBatches(1);
    const before = requestIds(streaming, STREAM).length;
    await alice.sendFriendRequest("erin#im.streams.test", "hi Erin");
    await until("the request reached the peer twice", () => requestIds(streaming, STREAM).length === before + 2, 20_000);
    const [dropped, again] = requestIds(streaming, STREAM).slice(before);
    expect(again).toBe(dropped);
    expect(streaming.streamsOpened()).toBe(2);
    const friends = await alice.friends();
    expect(friends.find((f) => f.address === "erin#im.streams.test")).toMatchObject({ state: "outgoing" });
    await new Promise((r) => setTimeout(r, 1500));
    expect(requestIds(streaming, STREAM).length).toBe(before + 2);
  });

  it("sends a peer of an earlier version, which answers the stream's opening 404, its batches by POST", async () => {
    await alice.sendFriendRequest("frank#im.posts.test", "hi Frank");
    await until("the request reached the peer", () => requestIds(posting, INBOX).length === 1);
    expect(posting.received.map((r) => r.path)).toEqual([STREAM, INBOX]);
  });
});
