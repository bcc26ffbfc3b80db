import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAddress, asDomain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { buildDiscoveryDoc, WELL_KNOWN_PATH } from "../../shared/discovery.js";
import { FEDERATION_COMPONENTS, serverKeyId, signMessage } from "../../shared/http-signature.js";
import { generateKeyPair, keyIdOf, type KeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { newClient, type Pair, removeClientDirs, startPair } from "./harness.js";

// A third domain run by this test: it serves a real discovery document with a key the test holds,
// so the test can sign federation requests by hand, correctly or not.
const MALLORY = asDomain("im.mallory.test");
const ROGUE_PORT = 18819;
const rogueKey = generateKeyPair();
const rogueKid = keyIdOf(rogueKey.publicKey);

let rogue: Server;
let pair: Pair;
let bob: EmsgClient;

beforeAll(async () => {
  const doc = buildDiscoveryDoc({ domain: MALLORY, keys: [{ kid: rogueKid, key: rogueKey.publicKey }], software: "e2e-rogue/1" });
  rogue = createServer((req, res) => {
    const found = req.url === WELL_KNOWN_PATH;
    res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(found ? doc : { error: "not_found", message: "no" }));
  });
  await new Promise<void>((ok) => rogue.listen(ROGUE_PORT, "127.0.0.1", ok));
  pair = await startPair(18807, 19807, { [MALLORY]: `http://127.0.0.1:${ROGUE_PORT}` });
  bob = (await newClient(pair)).client;
  await bob.register("bob#im.bob.test");
});

afterAll(async () => {
  await pair?.stop();
  await new Promise((ok) => rogue?.close(ok));
  await removeClientDirs();
});

interface Signing {
  from: string;
  key: KeyPair;
  kid: string;
  nonce?: string;
}

/** One federation POST to Bob's server, signed by hand (PROTOCOL §7); returns the exact request so it can be replayed. */
function signedInbox(items: unknown[], signing: Signing) {
  const url = `${pair.bob}/emsg/v1/federation/inbox`;
  const body = new TextEncoder().encode(JSON.stringify({ items }));
  const headers: Record<string, string> = { "content-type": "application/json", "emsg-from": signing.from, "emsg-to": "im.bob.test" };
  Object.assign(
    headers,
    signMessage(
      { method: "POST", url, headers, body },
      {
        keyId: serverKeyId(asDomain(signing.from), signing.kid),
        privateKey: signing.key.privateKey,
        created: Math.floor(Date.now() / 1000),
        nonce: signing.nonce ?? randomId16(),
        components: FEDERATION_COMPONENTS,
      },
    ),
  );
  return { url, init: { method: "POST", headers, body } };
}

async function send(request: ReturnType<typeof signedInbox>) {
  const res = await fetch(request.url, request.init);
  return { status: res.status, body: (await res.json()) as { error?: string; results?: Array<{ id: string; ok?: true; error?: string }> } };
}

/** A friend request as `from` would sign it, with an account key the test makes. */
function friendRequest(from: string) {
  const account = generateKeyPair();
  const body = { from: asAddress(from), to: asAddress("bob#im.bob.test"), accountKey: toB64u(account.publicKey), created: Date.now(), id: randomId16(), note: "let me in" };
  return { id: randomId16(), kind: "friend_request", signed: signObject(account.privateKey, "friend-request", body) };
}

async function requestsBobSees(): Promise<string[]> {
  await bob.sync();
  return (await bob.friends()).filter((f) => f.state === "incoming").map((f) => f.address);
}

const mallory: Signing = { from: MALLORY, key: rogueKey, kid: rogueKid };

describe("federation requests that are not what they claim", () => {
  it("accepts a correctly signed request from a peer domain (the baseline)", async () => {
    const item = friendRequest("mallory#im.mallory.test");
    const { status, body } = await send(signedInbox([item], mallory));
    expect(status).toBe(200);
    expect(body.results).toEqual([{ id: item.id, ok: true }]);
    expect(await requestsBobSees()).toEqual(["mallory#im.mallory.test"]);
  });

  it("refuses a request signed with a key the sending domain does not publish", async () => {
    const { status, body } = await send(signedInbox([friendRequest("eve#im.mallory.test")], { ...mallory, key: generateKeyPair() }));
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized");
    expect(await requestsBobSees()).not.toContain("eve#im.mallory.test");
  });

  it("refuses a replayed request (same signature, same nonce)", async () => {
    const request = signedInbox([friendRequest("trent#im.mallory.test")], mallory);
    expect((await send(request)).status).toBe(200);
    const again = await send(request);
    expect(again.status).toBe(401);
    expect(again.body.error).toBe("unauthorized");
  });

  it("refuses an item whose sender is an account of another domain", async () => {
    const item = friendRequest("alice#im.alice.test");
    const { status, body } = await send(signedInbox([item], mallory));
    expect(status).toBe(200);
    expect(body.results).toEqual([expect.objectContaining({ id: item.id, error: "forbidden" })]);
    expect(await requestsBobSees()).not.toContain("alice#im.alice.test");
  });

  it("refuses a request that claims to come from another domain", async () => {
    const { status, body } = await send(signedInbox([friendRequest("alice#im.alice.test")], { ...mallory, from: "im.alice.test" }));
    expect(status).toBe(401);
    expect(body.error).toBe("unauthorized");
    expect(await requestsBobSees()).not.toContain("alice#im.alice.test");
  });
});
