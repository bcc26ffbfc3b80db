import type { Address } from "../../shared/address.js";
import type { Store } from "../../shared/client/store.js";
import type { FriendState } from "../messaging/messages.js";
import type { ClientHost } from "./client-host.js";
import { pendingFriends, queueFriend } from "./pending-friends.js";

/** The host while this device has no EMSG account: additions wait in extension storage. */
export class SetupPendingHost implements ClientHost {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async account(): Promise<Address | null> {
    return null;
  }

  async friends(): Promise<Array<{ address: Address; state: FriendState }>> {
    return (await pendingFriends(this.#store)).map((address) => ({ address, state: "queued" as const }));
  }

  async addFriend(address: Address): Promise<FriendState> {
    await queueFriend(this.#store, address);
    return "queued";
  }
}
