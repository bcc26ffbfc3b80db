import type { Address } from "../../shared/address.js";
import type { Store } from "../../shared/client/store.js";

/**
 * Addresses the user chose to add before EMSG was set up on this device. They are sent as
 * friend requests as soon as an account exists, so a click on a web page is never lost.
 */
const KEY = "extension/pending-friends";

export async function pendingFriends(store: Store): Promise<Address[]> {
  return (await store.get<Address[]>(KEY)) ?? [];
}

export async function queueFriend(store: Store, address: Address): Promise<void> {
  const queued = await pendingFriends(store);
  if (!queued.includes(address)) await store.put(KEY, [...queued, address]);
}

/** Hands every queued address to `send`, dropping each one that was sent. */
export async function flushPendingFriends(store: Store, send: (address: Address) => Promise<void>): Promise<Address[]> {
  const sent: Address[] = [];
  for (const address of await pendingFriends(store)) {
    await send(address);
    sent.push(address);
    await store.put(KEY, (await pendingFriends(store)).filter((a) => a !== address));
  }
  return sent;
}
