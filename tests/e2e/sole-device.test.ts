// Issue 18 (round trip): a member on another domain who talks to the hub over a session with its
// account's only device has the hub's answer for what it sends, so its own messages need not come
// back to its account over federation. The hub marks its own copy `answered`, the member's server
// answers with the account's one device, and from then on the hub leaves the author's account out
// (PROTOCOL §6, §7). Mallory's domain is the rogue, so what the hub sends it is seen as sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { jcs } from "../../shared/canonical.js";
import type { EmsgClient } from "../../shared/client/client.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import { encodeContent } from "../../shared/content.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { encrypt, epochOf, joinFromWelcome, makeKeyPackages, processMessage, type DeviceIdentity, type GroupState } from "../../shared/mls/index.js";
import { signObject } from "../../shared/signed.js";
import type { ConvPayload } from "../../shared/wire/index.js";
import { connect, type Pair, until } from "./harness.js";
import { type Rogue, type RogueWorld, startRogueWorld } from "./rogue.js";

const ALICE = "alice#im.alice.test";
const BOB = "bob#im.bob.test";
const MALLORY = "mallory#im.evil.test";

let world: RogueWorld;
let rogue: Rogue;
let pair: Pair;
let alice: EmsgClient;
let chat: ConversationSummary;
let group: GroupState;

const account = generateKeyPair();
const malloryKey = generateKeyPair();
const mallory: DeviceIdentity = {
  deviceCert: certifyDevice(account, asAddress(MALLORY), malloryKey.publicKey, "mallory", Date.now()),
  devicePrivateKey: malloryKey.privateKey,
  devicePublicKey: malloryKey.publicKey,
};
const deviceId = mallory.deviceCert.body.deviceId;

type Deliver = { id: string; kind: string; to?: string[]; item?: ConvPayload; answered?: true };

/** Every conv_deliver of the chat the hub sent Mallory's domain, in arrival order. */
function delivers(): Deliver[] {
  const items = rogue.received.flatMap((r) => (r.path.endsWith("/inbox") ? ((r.body as { items: Deliver[] }).items ?? []) : []));
  return items.filter((i) => i.kind === "conv_deliver" && i.item?.conversation === chat.conversation);
}

async function texts(client: EmsgClient): Promise<string[]> {
  return (await client.history(chat.conversation, { limit: 100 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);
}

/** Mallory's session to the hub, with a ticket her (rogue) server signed, as a client opens one (PROTOCOL §10). */
async function openSession(): Promise<WebSocket> {
  const signed = signObject(rogue.key.privateKey, "session-ticket", { address: MALLORY, deviceId, conversation: chat.conversation, hub: "im.alice.test", exp: Date.now() + 240_000 });
  const url = `${pair.alice.replace("http", "ws")}/emsg/v1/conversations/${chat.conversation}/session?ticket=${toB64u(new TextEncoder().encode(jcs(signed)))}`;
  const ws = new WebSocket(url);
  await new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  });
  return ws;
}

/** Mallory's next text over the session; resolves with its id once the hub acknowledged it. */
async function sendOverSession(ws: WebSocket, body: string): Promise<string> {
  const sent = await encrypt(group, encodeContent({ v: 1, id: randomId16(), sentAt: Date.now(), type: "text", text: body }));
  group = sent.state;
  const id = randomId16();
  const acked = new Promise<void>((ok, fail) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as { t: string; id?: string; error?: string };
      if (frame.id !== id) return;
      ws.off("message", onMessage);
      if (frame.t === "ack") ok();
      else fail(new Error(`the hub refused it: ${frame.error}`));
    };
    ws.on("message", onMessage);
  });
  ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: epochOf(group), kind: "application", mls: sent.mls } }));
  await acked;
  return id;
}

beforeAll(async () => {
  world = await startRogueWorld(19500, 20500, 19502);
  ({ rogue, pair, alice } = world);
  const request = signObject(account.privateKey, "friend-request", {
    from: MALLORY, to: ALICE, accountKey: toB64u(account.publicKey), created: Date.now(), id: randomId16(), note: "hi Alice",
  });
  expect((await rogue.inbox(pair.alice, "im.alice.test", [{ id: request.body.id, kind: "friend_request", signed: request }])).body).toMatchObject({ results: [{ ok: true }] });
  await until("Alice to see Mallory's request", async () => {
    await alice.sync();
    return (await alice.friends()).find((f) => f.address === MALLORY && f.state === "incoming");
  });
  await alice.acceptFriend(MALLORY);
  const bundles = await makeKeyPackages(mallory, 2);
  rogue.answer("/claim", () => ({
    status: 200,
    body: { address: MALLORY, accountKey: toB64u(account.publicKey), devices: [{ deviceCert: mallory.deviceCert, keyPackage: bundles[0]!.keyPackage }] },
  }));
  // Mallory's server says her account has one device, as a real server does for such an account.
  rogue.answer("/inbox", (body) => ({
    status: 200,
    body: { results: (body as { items: Deliver[] }).items.map((i) => (i.answered && i.item?.from === MALLORY ? { id: i.id, ok: true, soleDevice: i.item.deviceId } : { id: i.id, ok: true })) },
  }));
  await connect(alice);
  chat = await alice.createGroup("Pair", [BOB, MALLORY]);
  const welcome = await until("the hub to send Mallory her Welcome", () => delivers().find((i) => i.item?.type === "welcome")?.item);
  group = (await joinFromWelcome(mallory, welcome.mls, bundles)).state;
  for (const d of delivers().filter((d) => d.item!.hubSeq > welcome.hubSeq && d.item!.type === "commit")) group = (await processMessage(group, d.item!.mls)).state;
}, 180_000);

afterAll(() => world?.stop());

describe("a remote member's own messages sent over a session with its only device", () => {
  it("go back to its domain once, marked answered, and not at all once its server named its one device", async () => {
    const ws = await openSession();
    try {
      const first = await sendOverSession(ws, "first");
      const own = await until("the hub to send Mallory's first back to her domain", () => delivers().find((d) => d.item?.id === first));
      expect(own).toMatchObject({ to: [MALLORY], answered: true, item: { from: MALLORY, deviceId } });
      const second = await sendOverSession(ws, "second");
      await alice.sendText(chat.conversation, "got both");
      // Alice's text went to Mallory's domain after Mallory's second was fanned out: the second never did.
      await until("Alice's text to reach Mallory's domain", () => delivers().some((d) => d.item?.from === ALICE && d.item.type === "application"));
      expect(delivers().filter((d) => d.item?.id === second)).toEqual([]);
      await until("Alice to read both", async () => {
        const read = await texts(alice);
        return ["mallory: first", "mallory: second"].every((t) => read.includes(t));
      });
    } finally {
      ws.close();
    }
  });
});
