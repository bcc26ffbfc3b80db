import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { FedItem, MailItem, SessionServerFrame } from "../../shared/wire/index.js";
import { API, PEER, befriend, call, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";
import { keyPackagesOf, TestGroup } from "./mls.js";

// The hub reads each Submit's MLS framing before ordering it (PROTOCOL §6, §8): what a member's
// client cannot have sent is refused, and a refused Submit changes nothing of the conversation.

async function conversation(owner: Device, members: Device[]): Promise<string> {
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: members.map((m) => m.address) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: string }).conversation;
}

/** Alice and Bob in a conversation hosted here whose first commit added Bob (the hub at epoch 1), and its MLS group. */
async function twoMembers(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  await befriend(alice, bob);
  const conv = await conversation(alice, [bob]);
  const group = await TestGroup.of(alice, conv);
  const added = await group.add([bob]);
  expect((await post(alice, conv, { epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address] } })).status).toBe(202);
  return { alice, bob, conv, group };
}

function post(d: Device, conv: string, body: Record<string, unknown>, id = randomId16()): Promise<Response> {
  return call(d, "POST", `/conversations/${conv}/messages`, { id, ...body });
}

async function refused(res: Response): Promise<{ status: number; error: string }> {
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

async function hubState(d: Device, conv: string): Promise<{ epoch: number; lastSeq: number }> {
  return (await (await call(d, "GET", `/conversations/${conv}`)).json()) as { epoch: number; lastSeq: number };
}

async function convItems(d: Device): Promise<Extract<MailItem, { kind: "conv" }>[]> {
  const page = (await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
  return page.items.filter((i): i is Extract<MailItem, { kind: "conv" }> => i.kind === "conv");
}

const BAD = { status: 400, error: "bad_request" };

describe("the hub reads a Submit's MLS framing", () => {
  it("refuses another conversation's message, a past epoch's message labelled with the hub's epoch, and bytes that are not MLS", async () => {
    const { alice, bob, conv, group } = await twoMembers("fra");
    const other = await TestGroup.of(alice, await conversation(alice, [bob]));
    expect(await refused(await post(alice, conv, { epoch: 0, kind: "application", mls: await other.message() }))).toEqual(BAD);
    // Bob's client at epoch 0 (it never took the commit) labels its message with the hub's epoch.
    expect(await refused(await post(bob, conv, { epoch: 1, kind: "application", mls: await group.message("old", 0) }))).toEqual(BAD);
    for (const mls of [toB64u(new TextEncoder().encode("not mls at all")), "AAECAwQ", (await keyPackagesOf(alice, 1))[0]!]) {
      expect(await refused(await post(alice, conv, { epoch: 1, kind: "application", mls }))).toEqual(BAD);
    }
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, lastSeq: 1 });
    expect((await convItems(bob)).map((i) => i.type)).toEqual(["commit", "welcome"]);
  });

  it("refuses a commit sent as a PublicMessage, and a message whose kind is not its MLS content type", async () => {
    const { alice, bob, conv, group } = await twoMembers("frb");
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "commit", mls: await group.publicCommit() }))).toEqual(BAD);
    const application = await group.message();
    for (const kind of ["proposal", "commit"]) expect(await refused(await post(alice, conv, { epoch: 1, kind, mls: application }))).toEqual(BAD);
    const commit = await group.commit(true);
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "application", mls: commit }))).toEqual(BAD);
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "proposal", mls: commit }))).toEqual(BAD);
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "application", mls: await group.proposal() }))).toEqual(BAD);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, lastSeq: 1 });
    // Each, sent as what it is, is taken.
    expect((await post(alice, conv, { epoch: 1, kind: "application", mls: application })).status).toBe(202);
    expect((await post(alice, conv, { epoch: 1, kind: "proposal", mls: await group.proposal() })).status).toBe(202);
    expect((await post(alice, conv, { epoch: 1, kind: "commit", mls: commit })).status).toBe(202);
    expect((await convItems(bob)).map((i) => i.type)).toEqual(["commit", "welcome", "application", "proposal", "commit"]);
  });

  it("refuses a Welcome that is not one, or not on a commit, and a message carrying authenticated data", async () => {
    const { alice, bob, conv, group } = await twoMembers("frc");
    const carol = await registered("frcc");
    await befriend(alice, carol);
    const added = await group.add([carol]);
    const roster = { add: [carol.address] };
    for (const welcome of ["AAAA", added.commit, (await keyPackagesOf(carol, 1))[0]!]) {
      expect(await refused(await post(alice, conv, { epoch: 1, kind: "commit", mls: added.commit, welcome, roster }))).toEqual(BAD);
    }
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "application", mls: await group.message("hi", 1), welcome: added.welcome }))).toEqual(BAD);
    expect(await refused(await post(alice, conv, { epoch: 1, kind: "application", mls: await group.messageWithData(1) }))).toEqual(BAD);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, lastSeq: 1 });
    expect((await post(alice, conv, { epoch: 1, kind: "commit", mls: added.commit, welcome: added.welcome, roster })).status).toBe(202);
    expect((await convItems(carol)).map((i) => i.type)).toEqual(["commit", "welcome"]);
    expect((await convItems(bob)).map((i) => i.type)).toEqual(["commit", "welcome", "commit"]);
  });

  it("does not let a garbage commit at the current epoch move the epoch on: the group keeps working", async () => {
    const { alice, bob, conv, group } = await twoMembers("frd");
    const garbage = [
      toB64u(crypto.getRandomValues(new Uint8Array(600))),
      // A commit's header with nothing behind it.
      (await group.commit(true)).slice(0, 120),
    ];
    for (const mls of garbage) expect(await refused(await post(bob, conv, { epoch: 1, kind: "commit", mls }))).toEqual(BAD);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, lastSeq: 1 });
    const res = await post(alice, conv, { epoch: 1, kind: "application", mls: await group.message("still here") });
    expect(await res.json()).toEqual({ accepted: true, seq: 2 });
    expect((await convItems(bob)).map((i) => [i.hubSeq, i.type])).toEqual([[1, "commit"], [1, "welcome"], [2, "application"]]);
  });

  it("refuses it at the sender's own server when the hub is elsewhere: nothing is queued for the hub", async () => {
    const alice = await registered("fre");
    const mine = await TestGroup.of(alice, await conversation(alice, []));
    const theirs = `${PEER}/${randomId16()}`;
    expect(await refused(await post(alice, theirs, { epoch: 0, kind: "application", mls: await mine.message() }))).toEqual(BAD);
    const genuine = await TestGroup.of(alice, theirs);
    expect((await post(alice, theirs, { epoch: 0, kind: "application", mls: await genuine.message() })).status).toBe(202);
  });

  it("refuses a peer's conv_submit of another conversation, or a garbage commit, as that item's error", async () => {
    const alice = await registered("frf");
    const peer = await trustedPeer();
    const remote = newDevice("far", PEER);
    const conv = await conversation(alice, [remote]);
    const group = await TestGroup.of(alice, conv);
    const other = await TestGroup.of(alice, await conversation(alice, [remote]));
    const item = (submit: Record<string, unknown>) => ({ id: submit.id, kind: "conv_submit", conversation: conv, from: remote.address, deviceId: remote.deviceId, submit }) as FedItem;
    const elsewhere = { id: randomId16(), epoch: 0, kind: "application", mls: await other.message() };
    const garbage = { id: randomId16(), epoch: 0, kind: "commit", mls: toB64u(crypto.getRandomValues(new Uint8Array(300))) };
    const genuine = { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() };
    expect(await sendFederated(peer, [item(elsewhere), item(garbage), item(genuine)])).toMatchObject([
      { id: elsewhere.id, error: "bad_request" },
      { id: garbage.id, error: "bad_request" },
      { id: genuine.id, ok: true },
    ]);
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 0, lastSeq: 1 });
  });

  it("answers a session's Submit with a bad framing by an error frame with its id, and orders the rest", async () => {
    const { alice, conv, group } = await twoMembers("frg");
    const res = await call(alice, "POST", "/sessions/ticket", { conversation: conv });
    const { ticket } = (await res.json()) as { ticket: unknown };
    const open = await SELF.fetch(`${API}/conversations/${conv}/session?ticket=${toB64u(new TextEncoder().encode(jcs(ticket)))}`, { headers: { upgrade: "websocket" } });
    const ws = open.webSocket!;
    ws.accept();
    const frames: SessionServerFrame[] = [];
    const got = new Promise<void>((resolve) => ws.addEventListener("message", (e) => {
      frames.push(JSON.parse(e.data as string) as SessionServerFrame);
      if (frames.some((f) => f.t === "acks")) resolve();
    }));
    const other = await TestGroup.of(alice, await conversation(alice, []));
    const [wrongGroup, wrongKind, fine] = [randomId16(), randomId16(), randomId16()];
    const message = await group.message();
    ws.send(JSON.stringify({
      t: "submits",
      submits: [
        { id: wrongGroup, epoch: 0, kind: "application", mls: await other.message() },
        { id: wrongKind, epoch: 1, kind: "commit", mls: message },
        { id: fine, epoch: 1, kind: "application", mls: message },
      ],
    }));
    await got;
    expect(frames).toEqual([
      expect.objectContaining({ t: "error", error: "bad_request", id: wrongGroup }),
      expect.objectContaining({ t: "error", error: "bad_request", id: wrongKind }),
      { t: "acks", acks: [{ id: fine, seq: 2 }] },
    ]);
    ws.close(1000, "bye");
    expect(await hubState(alice, conv)).toMatchObject({ epoch: 1, lastSeq: 2 });
  });
});
