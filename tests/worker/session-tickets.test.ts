import { describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { signObject, verifyObject, type Signed } from "../../shared/signed.js";
import type { ConversationRef } from "../../shared/wire/conversation.js";
import type { SessionTicketBody, SignedSessionTicket } from "../../shared/wire/index.js";
import { ownKey } from "../../worker/key-copies.js";
import { checkSessionTicket, issueSessionTicket } from "../../worker/session-ticket.js";
import { DOMAIN } from "./harness.js";

const conversation = `${DOMAIN}/c-tickets-0123456789ab` as ConversationRef;
const holder = { address: `alice#${DOMAIN}` as Address, deviceId: "dev-1", conversation, hub: DOMAIN as Domain };
// The group order L of Ed25519, little-endian: S + L is the same signature with a non-canonical S.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function withS(sig: Uint8Array, add: bigint): Uint8Array {
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
  s += add;
  const out = sig.slice();
  for (let i = 0; i < 32; i++) out[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
  return out;
}

async function accepted(ticket: SignedSessionTicket): Promise<boolean> {
  try {
    await checkSessionTicket(env, ticket, conversation, Date.now());
    return true;
  } catch {
    return false;
  }
}

describe("session tickets, signed and checked natively", () => {
  it("issues the very bytes noble signs, and accepts and refuses exactly what verifyObject does", async () => {
    const now = Date.now();
    const ticket = await issueSessionTicket(env, holder, now);
    const key = await ownKey(env);
    expect(ticket).toEqual(signObject<SessionTicketBody>(fromB64u(key.privateKey), "session-ticket", ticket.body));
    const sig = fromB64u(ticket.sig);
    const flipped = (i: number) => {
      const out = sig.slice();
      out[i] = out[i]! ^ 1;
      return out;
    };
    const variants: SignedSessionTicket[] = [
      ticket,
      { ...ticket, sig: toB64u(withS(sig, L)) },
      { ...ticket, sig: toB64u(flipped(0)) },
      { ...ticket, sig: toB64u(flipped(31)) },
      { ...ticket, sig: toB64u(flipped(40)) },
      { ...ticket, sig: toB64u(sig.subarray(0, 63)) },
      { ...ticket, sig: toB64u(new Uint8Array(64)) },
      { ...ticket, body: { ...ticket.body, deviceId: "dev-2" } },
    ];
    const public_ = fromB64u(key.publicKey);
    const answers = await Promise.all(variants.map(accepted));
    expect(answers).toEqual(variants.map((t) => verifyObject(public_, "session-ticket", t as Signed<unknown>)));
    expect(answers).toEqual([true, false, false, false, false, false, false, false]);
  });
});
