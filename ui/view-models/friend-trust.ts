import type { Friend } from "./core-types.js";
import type { LocalRecords } from "./local-records.js";
import { logFailure } from "./log-failure.js";
import { Observable } from "./observable.js";

/** Where a friend's key stands on this device: compared and marked verified, or changed since it was first seen. */
export interface Trust {
  verified: boolean;
  keyChanged: boolean;
}

export const UNTRUSTED: Trust = { verified: false, keyChanged: false };

/**
 * Notes the key a friend (or someone asking to be one) has now, remembering the first one seen, and
 * says whether it is the verified one or a different one: a changed key loses verification until
 * the person compares safety numbers again (PROTOCOL §4).
 */
export async function friendTrust(records: LocalRecords, friend: Friend): Promise<Trust> {
  const keyChanged = friend.state === "friend" || friend.state === "incoming" ? await records.observeKey(friend.address, friend.accountKey) : false;
  const memory = await records.keyMemory(friend.address);
  return { keyChanged, verified: !keyChanged && memory?.verified === true && memory.key === friend.accountKey };
}

/** What a list of friends needs of the core: their records (with the keys pinned for them) and news of each. */
export interface TrustClient {
  friends(): Promise<Friend[]>;
  readonly events: { on(event: "friend", listener: (friend: Friend) => void): unknown };
}

/**
 * Every friend's trust, kept current as friends change: for a client whose friends screen is not
 * the FriendsViewModel (the extension's), so its badges and key-change warnings are the PWA's.
 */
export class FriendTrustList extends Observable {
  readonly #client: TrustClient;
  readonly #records: LocalRecords;
  #trust = new Map<string, Trust>();
  /** Reads run one at a time, in the order asked: a load begun earlier never undoes a later friend event. */
  #turn: Promise<void> = Promise.resolve();

  constructor(client: TrustClient, records: LocalRecords) {
    super();
    this.#client = client;
    this.#records = records;
    client.events.on("friend", (friend) => void this.#inTurn(async () => this.#trust.set(friend.address, await friendTrust(this.#records, friend))));
  }

  /** Reads every friend again: on opening, and after the safety dialog marked or cleared one. */
  load(): Promise<void> {
    return this.#inTurn(async () => {
      const fresh = new Map<string, Trust>();
      for (const friend of await this.#client.friends()) fresh.set(friend.address, await friendTrust(this.#records, friend));
      this.#trust = fresh;
    });
  }

  #inTurn(read: () => Promise<unknown>): Promise<void> {
    this.#turn = this.#turn.then(read).then(
      () => this.changed(),
      logFailure("a friend's trust mark shows on the next change"),
    );
    return this.#turn;
  }

  of(address: string): Trust {
    return this.#trust.get(address) ?? UNTRUSTED;
  }
}
