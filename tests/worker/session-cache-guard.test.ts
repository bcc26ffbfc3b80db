import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { API, befriend, call, errorOf, registered, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

/*
 * Whatever the Worker or the hub keeps between session openings to make them cheaper (tickets,
 * keys, membership), a member removed by a commit loses its session at once and opens no new one
 * with a fresh ticket from its own server, right after sessions of its were admitted (PROTOCOL §10).
 */

async function ticketFor(d: Device, conversation: string): Promise<string> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  return toB64u(new TextEncoder().encode(jcs(((await res.json()) as { ticket: unknown }).ticket)));
}

function openSession(conversation: string, ticket: string): Promise<Response> {
  return SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${ticket}`, { headers: { upgrade: "websocket" } });
}

async function opened(conversation: string, d: Device): Promise<WebSocket> {
  const res = await openSession(conversation, await ticketFor(d, conversation));
  expect(res.status).toBe(101);
  res.webSocket!.accept();
  return res.webSocket!;
}

describe("a member removed after its sessions were admitted", () => {
  it("loses its open session at once and opens no new one, nor submits, with fresh tickets", async () => {
    const alice = await registered("scga");
    const bob = await registered("scgb");
    await befriend(alice, bob);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(alice, conversation);
    // Several openings first, so anything kept from them is warm.
    for (let i = 0; i < 3; i++) (await opened(conversation, bob)).close(1000, "bye");
    const live = await opened(conversation, bob);
    const closed = new Promise<number>((resolve) => live.addEventListener("close", (e) => resolve(e.code)));
    const removal = { id: randomId16(), epoch: 0, kind: "commit", mls: await group.commit(), roster: { remove: [bob.address] } };
    expect((await call(alice, "POST", `/conversations/${conversation}/messages`, removal)).status).toBe(202);
    expect(await closed).toBe(4003);
    const again = await openSession(conversation, await ticketFor(bob, conversation));
    expect(again.status).toBe(403);
    expect(await errorOf(again)).toBe("forbidden");
    const post = await call(bob, "POST", `/conversations/${conversation}/messages`, { id: randomId16(), epoch: 1, kind: "application", mls: await group.message() });
    expect(post.status).toBe(403);
  });
});
