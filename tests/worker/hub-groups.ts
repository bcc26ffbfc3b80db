import { expect } from "vitest";
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem, SessionServerFrame } from "../../shared/wire/index.js";
import { API, befriend, call, registered, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

// A hub's group as the veto and rejoin tests drive it: made, read and answered over the client API.

export type ConvItem = Extract<MailItem, { kind: "conv" }>;

export async function conversation(owner: Device, members: Device[]): Promise<string> {
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: members.map((m) => m.address) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: string }).conversation;
}

export function post(d: Device, conv: string, body: Record<string, unknown>, id = randomId16()): Promise<Response> {
  return call(d, "POST", `/conversations/${conv}/messages`, { id, ...body });
}

export async function answer(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function hubState(d: Device, conv: string): Promise<{ epoch: number; members: string[]; lastSeq: number }> {
  return (await (await call(d, "GET", `/conversations/${conv}`)).json()) as { epoch: number; members: string[]; lastSeq: number };
}

export async function convItems(d: Device): Promise<ConvItem[]> {
  const page = (await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] };
  return page.items.filter((i): i is ConvItem => i.kind === "conv");
}

/** Alice and Bob, friends, in a conversation Alice made, whose first commit (seq 1) added Bob (epoch 1). */
export async function twoInConversation(a: string, b: string): Promise<{ alice: Device; bob: Device; conv: string; group: TestGroup }> {
  const alice = await registered(a);
  const bob = await registered(b);
  await befriend(alice, bob);
  const conv = await conversation(alice, [bob]);
  const group = await TestGroup.of(alice, conv);
  const added = await group.add([bob]);
  const body = { epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address] } };
  expect(await (await post(alice, conv, body)).json()).toEqual({ accepted: true, seq: 1 });
  return { alice, bob, conv, group };
}

/** Alice, Bob and Carol in Alice's group (the hub at epoch 1), each a friend of Alice's. */
export async function threeMembers(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  const carol = await registered(`${prefix}c`);
  await befriend(alice, bob);
  await befriend(alice, carol);
  const conv = await conversation(alice, [bob, carol]);
  const group = await TestGroup.of(alice, conv);
  const added = await group.add([bob, carol]);
  expect((await post(alice, conv, { epoch: 0, kind: "commit", mls: added.commit, welcome: added.welcome, roster: { add: [bob.address, carol.address] } })).status).toBe(202);
  return { alice, bob, carol, conv, group };
}

/** A session of `d` to the hub of `conversation`, and the next frame it gets that is not an entry pushed to it. */
export async function sessionOf(d: Device, conversation: string): Promise<{ ws: WebSocket; next: () => Promise<SessionServerFrame> }> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  const ticket = toB64u(new TextEncoder().encode(jcs(((await res.json()) as { ticket: unknown }).ticket)));
  const opened = await SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${ticket}`, { headers: { upgrade: "websocket" } });
  expect(opened.status).toBe(101);
  const ws = opened.webSocket!;
  ws.accept();
  const read = frameReader(ws, 10_000);
  // Entries pushed to this session are not what these tests read: the answers to its own frames are.
  const next = async (): Promise<SessionServerFrame> => {
    for (;;) {
      const f = await read();
      if (f.t !== "item") return f;
    }
  };
  return { ws, next };
}

/** The frames `ws` gets, in order: each call takes the next, or fails after `waitMs` without one. */
export function frameReader(ws: WebSocket, waitMs: number): () => Promise<SessionServerFrame> {
  const frames: SessionServerFrame[] = [];
  const waiting: Array<(f: SessionServerFrame) => void> = [];
  ws.addEventListener("message", (e) => {
    const f = JSON.parse(e.data as string) as SessionServerFrame;
    const w = waiting.shift();
    if (w) w(f);
    else frames.push(f);
  });
  return () => {
    const f = frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      setTimeout(() => reject(new Error(`no frame within ${waitMs / 1000} s`)), waitMs);
    });
  };
}

/** Ends the hub's object: the next request gets a new instance over the same storage. */
export async function restartHub(conversation: string): Promise<void> {
  const stub = () => env.CONVERSATION.get(env.CONVERSATION.idFromName(conversation));
  await runInDurableObject(stub(), (instance, state) => {
    (instance as unknown as { before?: true }).before = true;
    state.abort("restart");
  }).catch(() => undefined);
  expect(await runInDurableObject(stub(), (instance) => (instance as unknown as { before?: true }).before)).toBeUndefined();
}
