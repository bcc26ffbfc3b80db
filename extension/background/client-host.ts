import type { Address } from "../../shared/address.js";
import type { FriendState } from "../messaging/messages.js";

/** What the background's message handlers need from whatever holds the EMSG account. */
export interface ClientHost {
  account(): Promise<Address | null>;
  friends(): Promise<Array<{ address: Address; state: FriendState }>>;
  /** Sends a friend request, or queues it while there is no account yet; throws EmsgError. */
  addFriend(address: Address): Promise<FriendState>;
}
