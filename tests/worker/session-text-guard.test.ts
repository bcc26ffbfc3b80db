import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import * as v from "valibot";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { SessionClientFrameSchema, type SessionServerFrame } from "../../shared/wire/index.js";
import { API, befriend, call, registered, type Device } from "./harness.js";
import { frameReader } from "./hub-groups.js";
import { TestGroup } from "./mls.js";

/*
 * A session frame is a member's text, read by the hub however it likes (JSON.parse and the schema,
 * a shortcut, or by slicing the text): whatever it reads must be what JSON.parse and
 * SessionClientFrameSchema make of that text. A frame with a key twice, an escaped character, a
 * `__proto__`, a number written oddly or out of range, a lone surrogate or text after the object is
 * answered as the reference answers it, and what reaches the other member's session and mailbox is
 * the submission as parsed, never other bytes of the text: the hub judged (epoch, kind, framing) the
 * parsed values, so storing or passing on anything else would order what it never checked.
 */

async function ticketFor(d: Device, conversation: string): Promise<string> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  return toB64u(new TextEncoder().encode(jcs(((await res.json()) as { ticket: unknown }).ticket)));
}

async function opened(conversation: string, d: Device): Promise<WebSocket> {
  const res = await SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${await ticketFor(d, conversation)}`, { headers: { upgrade: "websocket" } });
  expect(res.status).toBe(101);
  res.webSocket!.accept();
  return res.webSocket!;
}

type Parsed = { id: string; epoch: number; kind: string; mls: string };

/** What the reference makes of a frame's text: its submissions, or null when it refuses the frame. */
function reference(text: string): Parsed[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = v.safeParse(SessionClientFrameSchema, raw);
  if (!parsed.success) return null;
  const f = parsed.output;
  return f.t === "submit" ? [f.submit] : f.t === "submits" ? f.submits : [];
}

/** `s` with its first character written as a \u escape, as JSON allows for any character. */
const escaped = (s: string) => `\\u${s.charCodeAt(0).toString(16).padStart(4, "0")}${s.slice(1)}`;

describe("a session frame's text", () => {
  it("is read as JSON.parse and the schema read it, and what is ordered and passed on is the parsed submission", async () => {
    const alice = await registered("stga");
    const bob = await registered("stgb");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    const wa = await opened(conversation, alice);
    const wb = await opened(conversation, bob);
    const nextA = frameReader(wa, 10_000);
    const pushed: SessionServerFrame[] = [];
    wb.addEventListener("message", (e) => {
      pushed.push(JSON.parse(e.data as string) as SessionServerFrame);
    });

    const m = async () => group.message();
    const ids = Array.from({ length: 24 }, () => randomId16());
    const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12] = await Promise.all(Array.from({ length: 13 }, m));
    const plain = (id: string, mls: string, epoch = "0") => `{"id":"${id}","epoch":${epoch},"kind":"application","mls":"${mls}"}`;
    const frames: { why: string; text: string | ArrayBuffer }[] = [
      // The first of this pair's id, then the same id escaped: a retry, answered with the first seq, not ordered again.
      { why: "plain", text: `{"t":"submit","submit":${plain(ids[0]!, m0!)}}` },
      { why: "escaped id repeats the plain one", text: `{"t":"submit","submit":${plain(escaped(ids[0]!), m1!)}}` },
      { why: "mls twice: the last one", text: `{"t":"submit","submit":{"id":"${ids[1]}","epoch":0,"kind":"application","mls":"${m2}","mls":"${m3}"}}` },
      { why: "kind twice: the last one", text: `{"t":"submit","submit":{"id":"${ids[2]}","epoch":0,"kind":"commit","kind":"application","mls":"${m4}"}}` },
      { why: "epoch twice: the last one", text: `{"t":"submit","submit":{"id":"${ids[3]}","epoch":7,"epoch":0,"kind":"application","mls":"${m5}"}}` },
      { why: "id twice: the last one", text: `{"t":"submit","submit":{"id":"${ids[4]}","id":"${ids[5]}","epoch":0,"kind":"application","mls":"${m6}"}}` },
      { why: "submits twice: the last list", text: `{"t":"submits","submits":[${plain(ids[6]!, m7!)}],"submits":[${plain(ids[7]!, m7!)},${plain(ids[8]!, m8!)}]}` },
      { why: "t twice: the last one, and got's seqs are dropped", text: `{"t":"got","seqs":[1],"t":"submit","submit":${plain(ids[9]!, m9!)}}` },
      { why: "__proto__ in a submission: dropped", text: `{"t":"submit","submit":{"__proto__":{"kind":"commit"},"id":"${ids[10]}","epoch":0,"kind":"application","mls":"${m10}"}}` },
      { why: "escaped mls and odd spacing", text: ` {\n "submit" : {"mls":"${escaped(m11!)}", "kind":"\\u0061pplication","epoch":0,"id":"${ids[11]}"},\t"t":"submit"}\r\n` },
      { why: "epoch 0.0 is 0", text: `{"t":"submit","submit":${plain(ids[12]!, m12!, "0.0")}}` },
      { why: "epoch -0e3 is 0", text: `{"t":"submits","submits":[${plain(ids[13]!, m12!, "-0e3")}]}` },
      { why: "epoch 1e400 is Infinity", text: `{"t":"submit","submit":${plain(ids[14]!, m12!, "1e400")}}` },
      { why: "epoch past the safe integers", text: `{"t":"submit","submit":${plain(ids[15]!, m12!, "9007199254740993")}}` },
      { why: "epoch as a string", text: `{"t":"submit","submit":${plain(ids[16]!, m12!, '"0"')}}` },
      { why: "a lone surrogate in mls", text: `{"t":"submit","submit":${plain(ids[17]!, `\\ud800${m12!.slice(1)}`)}}` },
      { why: "a lone surrogate in the id", text: `{"t":"submit","submit":${plain(`\\udc00${ids[18]!.slice(1)}`, m12!)}}` },
      { why: "a got out of range refuses the frame's submission too", text: `{"t":"submit","submit":${plain(ids[19]!, m12!)},"got":[1e400]}` },
      { why: "a second object after the frame", text: `{"t":"submit","submit":${plain(ids[20]!, m12!)}}{"t":"ping"}` },
      { why: "text after the frame", text: `{"t":"submit","submit":${plain(ids[21]!, m12!)}} x` },
      { why: "a frame cut short", text: `{"t":"submit","submit":${plain(ids[22]!, m12!)}` },
      // As bytes: read as the UTF-8 text they are.
      { why: "a binary frame", text: new TextEncoder().encode(`{"t":"submit","submit":${plain(ids[23]!, m12!)}}`).buffer as ArrayBuffer },
    ];

    const expected: Parsed[] = [];
    const seqOf = new Map<string, number>();
    for (const { why, text } of frames) {
      const ref = reference(typeof text === "string" ? text : new TextDecoder().decode(text));
      wa.send(text);
      const answer = await nextA();
      if (ref === null) {
        expect(answer, why).toMatchObject({ t: "error", error: "bad_request" });
        expect(answer, why).not.toHaveProperty("id");
        continue;
      }
      const acks = answer.t === "acks" ? answer.acks : answer.t === "ack" ? [{ id: answer.id, seq: answer.seq }] : [];
      expect(acks.map((a) => a.id), why).toEqual(ref.map((s) => s.id));
      for (const [i, s] of ref.entries()) {
        const seq = acks[i]!.seq;
        if (seqOf.has(s.id)) expect(seq, why).toBe(seqOf.get(s.id));
        else {
          expect(seq, why).toBe(expected.length + 1);
          seqOf.set(s.id, seq);
          expected.push(s);
        }
      }
    }
    // Cases the reference takes, so the test shows each is read the way JSON.parse reads it.
    expect(expected.map((s) => s.id)).toEqual([ids[0], ids[1], ids[2], ids[3], ids[5], ids[7], ids[8], ids[9], ids[10], ids[11], ids[12], ids[13], ids[23]]);
    expect(expected.map((s) => s.mls)).toEqual([m0, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m12, m12]);

    const asItems = expected.map((s, i) => ({ id: s.id, hubSeq: i + 1, epoch: 0, type: "application", mls: s.mls }));
    await expect.poll(() => pushed.filter((f) => f.t === "item").length).toBe(expected.length);
    const items = pushed.flatMap((f) => (f.t === "item" ? [f.item] : []));
    expect(items.map(({ id, hubSeq, epoch, type, mls }) => ({ id, hubSeq, epoch, type, mls }))).toEqual(asItems);
    wa.close(1000, "bye");
    wb.close(1000, "bye");

    const mailbox = (await (await call(bob, "GET", "/mailbox?after=0&limit=500")).json()) as { items: Record<string, unknown>[] };
    const conv = mailbox.items.filter((i) => i.kind === "conv");
    expect(conv.map(({ id, hubSeq, epoch, type, mls }) => ({ id, hubSeq, epoch, type, mls }))).toEqual(asItems);
    // Nothing of a frame's text but the submission's fields goes on: no `__proto__`, no key of the frame.
    const fields = ["at", "conversation", "deviceId", "epoch", "from", "hubSeq", "id", "mls", "type"];
    for (const item of items) expect(Object.keys(item).sort()).toEqual(fields);
    for (const item of conv) expect(Object.keys(item).sort()).toEqual([...fields, "kind", "seq"].sort());
  });
});
