import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SELF } from "cloudflare:test";
import { API, DOMAIN, call, registered, trustedPeer, federationRequest } from "./harness.js";

const ROUTES: Array<[string, string]> = [
  ["POST", "/accounts"],
  ["PUT", "/account/settings"],
  ["POST", "/account/devices"],
  ["POST", "/account/links"],
  ["GET", "/links/alice%23im.alice.test/%E0%A4%A"],
  ["DELETE", "/account"],
  ["POST", "/account/keypackages"],
  ["POST", "/directory/claim"],
  ["POST", "/friends/requests"],
  ["POST", "/friends/bob%23im.alice.test/accept"],
  ["POST", "/friends/%E0%A4%A/decline"],
  ["POST", "/conversations"],
  ["POST", "/conversations/im.alice.test/AAAAAAAAAAAAAAAAAAAAAA/messages"],
  ["POST", "/conversations/not a hub/%%/messages"],
  ["POST", "/sessions/ticket"],
  ["POST", "/mailbox/ack"],
  ["GET", "/mailbox?after=%ZZ&limit=-3"],
  ["GET", "/conversations/im.alice.test/%E0%A4%A"],
  ["POST", "/account/moved"],
  ["GET", "/account"],
  ["DELETE", "/account/devices/AAAAAAAAAAAAAAAAAAAAAA"],
  ["DELETE", "/account/devices/%E0"],
  ["GET", "/friends"],
  ["DELETE", "/friends/bob%23im.alice.test"],
  ["POST", "/friends/bob%23im.alice.test/block"],
  ["POST", "/directory/devices"],
  ["POST", "/ws-ticket"],
  ["POST", "/conversations/im.alice.test/AAAAAAAAAAAAAAAAAAAAAA/rejoin"],
  ["POST", "/conversations/im.alice.test/AAAAAAAAAAAAAAAAAAAAAA/veto"],
  ["GET", "/conversations/im.alice.test/AAAAAAAAAAAAAAAAAAAAAA/session"],
  ["GET", "/blobs"],
  ["GET", "/blobs/AAAAAAAAAAAAAAAAAAAAAA"],
  ["DELETE", "/blobs/AAAAAAAAAAAAAAAAAAAAAA"],
  ["POST", "/blobs/uploads"],
  ["GET", "/blobs/uploads/AAAAAAAAAAAAAAAAAAAAAA"],
  ["PUT", "/blobs/uploads/AAAAAAAAAAAAAAAAAAAAAA/parts/1"],
  ["PUT", "/blobs/uploads/%E0/parts/-1"],
  ["POST", "/blobs/uploads/AAAAAAAAAAAAAAAAAAAAAA/complete"],
  ["DELETE", "/blobs/uploads/AAAAAAAAAAAAAAAAAAAAAA"],
];

const garbage = fc.oneof(
  fc.json(),
  fc.string(),
  fc.uint8Array({ maxLength: 64 }).map((b) => b),
  fc.record({ request: fc.anything(), response: fc.anything(), id: fc.anything(), upTo: fc.anything(), members: fc.anything() }).map((o) => JSON.stringify(o)),
);

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

describe("garbage in", () => {
  it("answers malformed signed requests with typed 4xx errors, never a 5xx", async () => {
    // Several accounts, so no answer is merely the rate limit speaking.
    const devices = await Promise.all([1, 2, 3, 4].map(() => registered("fuzz")));
    let turn = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), garbage, async ([method, path], body) => {
        const d = devices[turn++ % devices.length]!;
        const res = await call(d, method, path, undefined, method === "GET" ? {} : { rawBody: bytesOf(body) });
        // Random input may now and then be valid (an ack of 0, say); it must never be a server fault.
        expect(res.status).not.toBe(429);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(await res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
      }),
      { numRuns: 160 },
    );
  });

  it("answers malformed federation requests with typed errors", async () => {
    const peer = await trustedPeer();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/inbox", "/claim", "/devices"), garbage, async (path, body) => {
        const res = await SELF.fetch(federationRequest(peer, path, undefined, { rawBody: bytesOf(body) }));
        expect(res.status === 200 || (res.status >= 400 && res.status < 500)).toBe(true);
      }),
      { numRuns: 90 },
    );
  });

  it("answers unsigned and strangely encoded requests with 4xx", async () => {
    for (const path of ["/friends/%E0%A4%A/accept", "/ws?ticket=%E0", "/conversations/x/y/session", "/account"]) {
      const res = await SELF.fetch(`${API}${path}`, { method: path.endsWith("accept") ? "POST" : "GET", headers: { "emsg-to": DOMAIN, signature: "emsg=:AAAA:", "signature-input": "emsg=(" } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});
