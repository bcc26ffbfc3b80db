// EMSG accounts for the benchmark, set up through the client core exactly as the CLI and PWA do.
import { nodeTransportWith } from "../cli/node-transport.js";
import { type Domain, domainOf, parseAddress } from "../shared/address.js";
import { signerOf } from "../shared/client/account.js";
import type { CoreContext } from "../shared/client/context.js";
import { EmsgClient, MemoryStore } from "../shared/client/index.js";
import { ServerApi } from "../shared/client/server-api.js";
import { systemClock } from "../shared/client/transport.js";
import { originFor, parseResolverMap } from "../shared/discovery.js";
import { sleep } from "./processes.js";

/**
 * Clients that do not offer permessage-deflate: the Worker declines it (no_web_socket_compression),
 * but a proxy in front of it, such as wrangler dev's, would accept it and compress every frame at
 * the cost of both processes' CPU.
 */
const transport = nodeTransportWith({ compress: false });

export interface Person {
  address: string;
  client: EmsgClient;
  /** The core's own context, for the lower-level pieces the hot loop uses (submit, mailbox socket). */
  ctx: CoreContext;
  /** The resolver map, to reach another domain's hub straight (session sockets). */
  resolve: string;
}

/** Polls `check` until it holds; the core starts no timers, so waiting for federation is ours to do. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

export async function register(addressText: string, resolve: string): Promise<Person> {
  const store = new MemoryStore();
  const client = new EmsgClient({ store, transport, resolve });
  const account = await client.register(addressText, { label: "bench" });
  const domain = domainOf(parseAddress(addressText).address) as Domain;
  const api = new ServerApi(transport, systemClock, originFor(domain, parseResolverMap(resolve)), domain);
  api.setSigner(signerOf(account));
  return { address: account.address, client, ctx: { store, api, clock: systemClock, account, events: client.events }, resolve };
}

async function isFriend(person: Person, other: Person, state: string): Promise<boolean> {
  await person.client.sync();
  return (await person.client.friends()).some((f) => f.address === other.address && f.state === state);
}

/** A friend request from `a`, accepted by `b`, and both sides pinned. */
export async function befriend(a: Person, b: Person): Promise<void> {
  await a.client.sendFriendRequest(b.address, "benchmark");
  await until(`${b.address} to get the friend request`, () => isFriend(b, a, "incoming"));
  await b.client.acceptFriend(a.address);
  await until(`${a.address} to see the acceptance`, () => isFriend(a, b, "friend"));
}

/**
 * The 1:1 conversation of `a` and `b`, made by `a`'s first message (so `a`'s server is its hub),
 * with `b` joined from the Welcome and the first message read. Returns its `HUB/ID`.
 */
export async function openConversation(a: Person, b: Person): Promise<string> {
  await a.client.sendText(b.address, "hello");
  await a.client.idle();
  if ((await a.client.flush()) > 0) throw new Error(`${a.address} could not send its first message`);
  const mine = (await a.client.conversations()).find((c) => c.peer === b.address);
  if (!mine) throw new Error(`${a.address} has no conversation with ${b.address} after sending`);
  await until(`${b.address} to join ${mine.conversation}`, async () => {
    await b.client.sync();
    // Until the Welcome is in, the conversation is unknown on b's device.
    const history = await b.client.history(mine.conversation).catch(() => []);
    return history.some((m) => m.text === "hello");
  });
  return mine.conversation;
}
