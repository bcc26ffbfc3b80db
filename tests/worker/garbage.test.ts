import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { ACK_WRITE_MS } from "../../worker/mailbox.js";
import { API, DOMAIN, befriend, call, registered, trustedPeer, federationRequest } from "./harness.js";

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

/** Frames shaped like a session's or a mailbox socket's, with anything in their fields. */
const garbageFrame = fc.oneof(
  garbage,
  fc
    .record(
      { t: fc.constantFrom("submit", "submits", "got", "ping", "renew", "rtc", "ack", "hello"), submit: fc.anything(), submits: fc.anything(), seqs: fc.anything(), got: fc.anything(), ticket: fc.anything(), to: fc.anything(), data: fc.anything(), upTo: fc.anything() },
      { requiredKeys: ["t"] },
    )
    .map((o) => JSON.stringify(o)),
);

/** A socket's frames as they come, read one at a time, and whether it closed. */
function reader(ws: WebSocket): { next: () => Promise<{ t: string; error?: string }>; closed: () => boolean } {
  const frames: Array<{ t: string; error?: string }> = [];
  const waiting: Array<(f: { t: string; error?: string }) => void> = [];
  let closed = false;
  ws.addEventListener("message", (e) => {
    const f = JSON.parse(e.data as string) as { t: string; error?: string };
    const w = waiting.shift();
    if (w) w(f);
    else frames.push(f);
  });
  ws.addEventListener("close", () => {
    closed = true;
    for (const w of waiting.splice(0)) w({ t: "closed" });
  });
  return {
    next: () => {
      const f = frames.shift() ?? (closed ? { t: "closed" } : undefined);
      return f ? Promise.resolve(f) : new Promise((resolve) => waiting.push(resolve));
    },
    closed: () => closed,
  };
}

// A ping the object itself answers, in turn with the frames before it: the runtime answers the exact
// text {"t":"ping"} on its own (setWebSocketAutoResponse), ahead of anything the object still reads.
const BARRIER = JSON.stringify({ t: "ping", after: "garbage" });

/**
 * Sends `frame`, then a ping, and reads up to the pong: every other frame is an error frame (or a
 * delivery the socket pushes anyway, `push`), and the socket is still open.
 */
async function answeredInKind(ws: WebSocket, socket: ReturnType<typeof reader>, push: string, frame: string | Uint8Array): Promise<void> {
  ws.send(frame);
  ws.send(BARRIER);
  for (let f = await socket.next(); f.t !== "pong"; f = await socket.next()) {
    if (f.t === push) continue;
    expect(f.t).toBe("error");
    expect(f.error).toEqual(expect.any(String));
  }
  expect(socket.closed()).toBe(false);
}

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

  it("answers garbage frames on a hub session and a mailbox socket with error frames, and keeps both open", async () => {
    const [alice, bob] = await Promise.all([registered("wsfuzz"), registered("wsfuzz")]);
    await befriend(alice, bob);
    const { conversation } = (await (await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] })).json()) as { conversation: string };
    const { ticket } = (await (await call(alice, "POST", "/sessions/ticket", { conversation })).json()) as { ticket: unknown };
    const session = (await SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${toB64u(new TextEncoder().encode(jcs(ticket)))}`, { headers: { upgrade: "websocket" } })).webSocket!;
    const { ticket: secret } = (await (await call(bob, "POST", "/ws-ticket")).json()) as { ticket: string };
    const mailbox = (await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(secret)}`, { headers: { upgrade: "websocket" } })).webSocket!;
    session.accept();
    mailbox.accept();
    const [fromSession, fromMailbox] = [reader(session), reader(mailbox)];
    await fc.assert(
      fc.asyncProperty(garbageFrame, async (frame) => {
        await answeredInKind(session, fromSession, "item", frame);
        await answeredInKind(mailbox, fromMailbox, "items", frame);
      }),
      { numRuns: 120 },
    );
    session.close(1000, "done");
    mailbox.close(1000, "done");
    // An ack among the garbage is written a moment later (ACK_WRITE_MS): the test ends after that, not before.
    await new Promise((r) => setTimeout(r, ACK_WRITE_MS + 500));
  });

  it("answers unsigned and strangely encoded requests with 4xx", async () => {
    for (const path of ["/friends/%E0%A4%A/accept", "/ws?ticket=%E0", "/conversations/x/y/session", "/account"]) {
      const res = await SELF.fetch(`${API}${path}`, { method: path.endsWith("accept") ? "POST" : "GET", headers: { "emsg-to": DOMAIN, signature: "emsg=:AAAA:", "signature-input": "emsg=(" } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});
