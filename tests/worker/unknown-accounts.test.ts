import { describe, expect, it } from "vitest";
import { SELF, env, listDurableObjectIds } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { FEDERATION_COMPONENTS, serverKeyId, signMessage } from "../../shared/http-signature.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { ConversationRef, FedItem } from "../../shared/wire/index.js";
import {
  API,
  DOMAIN,
  PEER,
  call,
  errorOf,
  federationRequest,
  friendRequest,
  newDevice,
  registered,
  sendFederated,
  trustedPeer,
  type Device,
} from "./harness.js";

/** Whether an Account object (and so its storage) was ever made for `address`. */
async function objectExists(address: Address): Promise<boolean> {
  const id = env.ACCOUNT.idFromName(address).toString();
  return (await listDurableObjectIds(env.ACCOUNT)).some((existing) => existing.toString() === id);
}

function madeUp(prefix: string): Device {
  return newDevice(`nobody${prefix}`);
}

describe("requests naming accounts that do not exist (issue 14 item 7)", () => {
  it("badly signed requests naming made-up accounts are refused without making an Account object", async () => {
    const ghosts = Array.from({ length: 30 }, (_, i) => madeUp(`sig${i}`));
    for (const ghost of ghosts) {
      const res = await call(ghost, "GET", "/mailbox", undefined, { signWith: generateKeyPair().privateKey });
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("unauthorized");
    }
    const added = await call(ghosts[0]!, "POST", "/account/devices", { deviceCert: ghosts[0]!.cert });
    expect(added.status).toBe(401);
    for (const ghost of ghosts) expect(await objectExists(ghost.address)).toBe(false);
    // A registered account is still reached the same way.
    const real = await registered("realone");
    expect((await call(real, "GET", "/mailbox")).status).toBe(200);
    expect(await objectExists(real.address)).toBe(true);
  });

  it("open routes naming made-up accounts answer not_found or unauthorized and make no object", async () => {
    const ghost = madeUp("open");
    const link = await SELF.fetch(`${API}/links/${encodeURIComponent(ghost.address)}/${randomId16()}`);
    expect(link.status).toBe(404);
    const key = generateKeyPair();
    const notice = signObject(key.privateKey, "moved", { from: ghost.address, to: `new#${PEER}`, accountKey: toB64u(key.publicKey), at: Date.now() });
    const moved = await SELF.fetch(`${API}/account/moved`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ notice }) });
    expect(moved.status).toBe(401);
    const signedMove = await call(ghost, "POST", "/account/moved", { notice });
    expect(signedMove.status).toBe(401);
    const ticket = `${toB64u(new TextEncoder().encode(ghost.address))}.${randomId16()}`;
    const ws = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
    expect(ws.status).toBe(401);
    const asker = await registered("asker");
    const claim = await call(asker, "POST", "/directory/claim", { address: ghost.address });
    expect(claim.status).toBe(404);
    const request = await call(asker, "POST", "/friends/requests", { request: friendRequest(asker, ghost.address) });
    expect(request.status).toBe(404);
    expect(await objectExists(ghost.address)).toBe(false);
  });

  it("federation items and claims naming made-up local users are not_found and make no object", async () => {
    const peer = await trustedPeer();
    const ghost = madeUp("fed");
    const far = newDevice("far", PEER);
    const claim = await SELF.fetch(federationRequest(peer, "/claim", { address: ghost.address }));
    expect(claim.status).toBe(404);
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const payload = { conversation, id: randomId16(), hubSeq: 1, from: far.address, deviceId: far.deviceId, epoch: 0, type: "application" as const, mls: "AAEC", at: Date.now() };
    const request = friendRequest(far, ghost.address);
    const items: FedItem[] = [
      { id: request.body.id, kind: "friend_request", signed: request },
      { id: randomId16(), kind: "conv_deliver", conversation, to: [ghost.address], item: payload },
      { id: randomId16(), kind: "bounce", sender: ghost.address, ref: randomId16(), to: far.address, error: "stranger_refused" },
      { id: randomId16(), kind: "deleted", to: [ghost.address], signed: signObject(far.account.privateKey, "deleted", { address: far.address, at: Date.now() }) },
    ];
    expect(await sendFederated(peer, items)).toMatchObject([{ error: "not_found" }, { ok: true }, { error: "not_found" }, { error: "not_found" }]);
    expect(await objectExists(ghost.address)).toBe(false);
  });

  it("limits per client IP the requests that may make the server fetch a peer's discovery document", async () => {
    // EMSG-From im.carol.test, whose document this server does not hold: each request would have it fetched.
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const key = generateKeyPair();
    const carol = "im.carol.test" as Domain;
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const url = `${API}/federation/inbox`;
      const body = new TextEncoder().encode(JSON.stringify({ items: [{ id: randomId16(), kind: "bounce" }] }));
      const headers: Record<string, string> = { "content-type": "application/json", "emsg-from": carol, "emsg-to": DOMAIN, "cf-connecting-ip": ip };
      const sig = signMessage(
        { method: "POST", url, headers, body },
        { keyId: serverKeyId(carol, "AAAAAAAAAAA"), privateKey: key.privateKey, created: Math.floor(Date.now() / 1000), nonce: randomId16(), components: FEDERATION_COMPONENTS },
      );
      statuses.push((await SELF.fetch(new Request(url, { method: "POST", headers: { ...headers, ...sig }, body }))).status);
    }
    // The bucket holds 60 and refills one a second: the first 60 get as far as the fetch, most later ones do not.
    expect(statuses.slice(0, 60).every((s) => s === 502)).toBe(true);
    expect(statuses.slice(60).filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
  });
});
