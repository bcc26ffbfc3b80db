import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { SignedSessionTicket } from "../../shared/wire/index.js";
import { API, befriend, call, errorOf, registered, type Device } from "./harness.js";
import { frameReader } from "./hub-groups.js";

/*
 * A session ticket's signature covers its whole body (PROTOCOL §10). Whatever the Worker or the
 * hub keeps of tickets it checked already (to open sessions cheaply), a signature seen once does
 * not vouch for another body: other domains hold a member's tickets (its authorTicket, §9), so a
 * check remembered by signature alone would let one of them open that member's session in another
 * conversation, or stretch a session past its ticket.
 */

async function ticketOf(d: Device, conversation: string): Promise<SignedSessionTicket> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ticket: SignedSessionTicket }).ticket;
}

function openSession(conversation: string, ticket: SignedSessionTicket): Promise<Response> {
  const text = toB64u(new TextEncoder().encode(jcs(ticket)));
  return SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${text}`, { headers: { upgrade: "websocket" } });
}

async function conversationWith(owner: Device, member: Device): Promise<string> {
  const res = await call(owner, "POST", "/conversations", { id: randomId16(), members: [member.address] });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation: string }).conversation;
}

describe("a checked ticket's signature under another body", () => {
  it("opens no session in another conversation of the same member", async () => {
    const alice = await registered("stga");
    const bob = await registered("stgb");
    await befriend(alice, bob);
    const [c1, c2] = [await conversationWith(alice, bob), await conversationWith(alice, bob)];
    const ticket = await ticketOf(bob, c1);
    const first = await openSession(c1, ticket);
    expect(first.status).toBe(101);
    first.webSocket!.accept();
    const moved = { ...ticket, body: { ...ticket.body, conversation: c2 } } as SignedSessionTicket;
    const res = await openSession(c2, moved);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe("unauthorized");
    // Bob's own ticket for c2 still opens his session there.
    expect((await openSession(c2, await ticketOf(bob, c2))).status).toBe(101);
  });

  it("renews no session to a later expiry than its ticket was signed for", async () => {
    const alice = await registered("stgc");
    const bob = await registered("stgd");
    await befriend(alice, bob);
    const conv = await conversationWith(alice, bob);
    const opened = await openSession(conv, await ticketOf(bob, conv));
    expect(opened.status).toBe(101);
    const ws = opened.webSocket!;
    ws.accept();
    const next = frameReader(ws, 10_000);
    const fresh = await ticketOf(bob, conv);
    ws.send(JSON.stringify({ t: "renew", ticket: fresh }));
    expect(await next()).toEqual({ t: "renewed", exp: fresh.body.exp });
    const stretched = { ...fresh, body: { ...fresh.body, exp: fresh.body.exp + 30_000 } };
    ws.send(JSON.stringify({ t: "renew", ticket: stretched }));
    expect(await next()).toMatchObject({ t: "error", error: "unauthorized" });
  });
});
