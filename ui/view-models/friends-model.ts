import type { Address } from "../../shared/address.js";
import { ERROR_SENTENCE, isErrorCode } from "../../shared/errors.js";
import type { Translate } from "../i18n/translate.js";
import type { AppContext } from "./app-context.js";
import type { Friend } from "./core-types.js";
import { readFriendInput } from "./friend-input.js";
import { ActionModel } from "./action-model.js";

export interface FriendRow {
  address: Address;
  initial: string;
  note: string;
  problem: string;
  canAnswer: boolean;
  isFriend: boolean;
  verified: boolean;
  keyChanged: boolean;
  /** Where this friend moved, or where they moved from (PROTOCOL §11). */
  movedTo: Address | null;
  movedFrom: Address | null;
}

export interface Trust {
  verified: boolean;
  keyChanged: boolean;
}

/** A row of the friends screen; a bounced request shows the reason as a sentence. */
export function friendRow(friend: Friend, trust: Trust): FriendRow {
  return {
    address: friend.address,
    initial: (friend.address[0] ?? "#").toUpperCase(),
    note: friend.state === "incoming" || friend.state === "held" ? (friend.note ?? "") : "",
    problem: friend.bounced ? (isErrorCode(friend.bounced) ? ERROR_SENTENCE[friend.bounced] : friend.bounced) : "",
    canAnswer: friend.state === "incoming" || friend.state === "held",
    isFriend: friend.state === "friend",
    verified: trust.verified,
    keyChanged: trust.keyChanged,
    movedTo: friend.movedTo ?? null,
    movedFrom: friend.movedFrom ?? null,
  };
}

/**
 * "Request sent to X." while the request just sent to `to` waits for an answer: once X accepted it,
 * or it came back with a reason (listed apart), the note would only be stale. A request not listed
 * yet (the list updates after the send) still waits; so does one queued until the extension is set
 * up. Worded when shown, so it follows a change of language.
 */
export function sentNote(to: string | null, request: { state: string; bounced?: string } | undefined, t: Translate): string | null {
  if (to === null) return null;
  const waiting = !request || ((request.state === "outgoing" || request.state === "queued") && !request.bounced);
  return waiting ? t("friends.sent", { address: to }) : null;
}

/** Friends, requests in and out, and the add-a-friend form. */
export class FriendsViewModel extends ActionModel {
  readonly #ctx: AppContext;
  #friends = new Map<string, Friend>();
  #trust = new Map<string, Trust>();
  /** Whom the request sent from this screen went to, for the note saying so. */
  #sentTo: Address | null = null;
  /** What the address field holds: typed, pasted, scanned or from an invite link. */
  draft = "";

  constructor(ctx: AppContext) {
    super();
    this.#ctx = ctx;
    ctx.client.events.on("friend", (friend) => {
      if (friend.state === "declined") this.#friends.delete(friend.address);
      else this.#friends.set(friend.address, friend);
      void this.#observe(friend).then(() => this.changed());
    });
  }

  async load(): Promise<void> {
    this.#friends = new Map((await this.#ctx.client.friends()).map((f) => [f.address, f]));
    for (const friend of this.#friends.values()) await this.#observe(friend);
    this.changed();
  }

  async #observe(friend: Friend): Promise<void> {
    const keyChanged = friend.state === "friend" || friend.state === "incoming" ? await this.#ctx.records.observeKey(friend.address, friend.accountKey) : false;
    const memory = await this.#ctx.records.keyMemory(friend.address);
    this.#trust.set(friend.address, { keyChanged, verified: !keyChanged && memory?.verified === true && memory.key === friend.accountKey });
  }

  #rows(states: readonly Friend["state"][]): FriendRow[] {
    return [...this.#friends.values()]
      .filter((f) => states.includes(f.state))
      .sort((a, b) => a.address.localeCompare(b.address))
      .map((f) => friendRow(f, this.#trust.get(f.address) ?? { verified: false, keyChanged: false }));
  }

  get incoming(): FriendRow[] {
    return this.#rows(["incoming"]);
  }
  get held(): FriendRow[] {
    return this.#rows(["held"]);
  }
  get outgoing(): FriendRow[] {
    return this.#rows(["outgoing"]).filter((row) => !row.problem);
  }
  /** Requests that came back (refused, unknown address, unreachable): shown apart, with the reason. */
  get undelivered(): FriendRow[] {
    return this.#rows(["outgoing"]).filter((row) => row.problem);
  }
  get friends(): FriendRow[] {
    return this.#rows(["friend"]);
  }
  get blocked(): FriendRow[] {
    return this.#rows(["blocked"]);
  }
  get notice(): string | null {
    return sentNote(this.#sentTo, this.#sentTo === null ? undefined : this.#friends.get(this.#sentTo), this.#ctx.t);
  }

  /** Leaving the screen: the note about the last request sent has been seen. */
  leave(): void {
    this.#sentTo = null;
  }

  get isEmpty(): boolean {
    return this.#friends.size === 0;
  }
  get pendingCount(): number {
    return this.incoming.length + this.held.length;
  }

  state(address: string): Friend | undefined {
    return this.#friends.get(address);
  }

  setDraft(text: string): void {
    this.draft = text;
    this.changed();
  }

  /**
   * Fills the address field from a scanned QR code or an invite link, showing the address itself
   * (not the code); something unreadable leaves the field as it was and says why.
   */
  useCode(text: string): void {
    const input = readFriendInput(text, this.#ctx.client.address);
    this.#sentTo = null;
    this.error = input.ok ? null : input.error;
    if (input.ok) this.draft = input.address;
    this.changed();
  }

  async add(note: string): Promise<boolean> {
    const input = readFriendInput(this.draft, this.#ctx.client.address);
    this.#sentTo = null;
    if (!input.ok) {
      this.error = input.error;
      this.changed();
      return false;
    }
    return this.attempt(async () => {
      await this.#ctx.client.sendFriendRequest(input.address, note.trim());
      this.draft = "";
      this.#sentTo = input.address;
    });
  }

  accept(address: Address): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.acceptFriend(address));
  }
  decline(address: Address): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.declineFriend(address));
  }
  block(address: Address): Promise<boolean> {
    return this.attempt(async () => {
      await this.#ctx.client.block(address);
      await this.load();
    });
  }
  /** A name for a friend that only this device shows; empty takes it away (PROTOCOL §8.2). */
  setNickname(address: Address, nickname: string): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.setNickname(address, nickname));
  }
  /** Ends the friendship; the chat stays readable, and writing needs a new request. */
  remove(address: Address): Promise<boolean> {
    return this.attempt(async () => {
      await this.#ctx.client.removeFriend(address);
      await this.load();
    });
  }


  /** After the safety dialog marked or cleared verification. */
  async trustChanged(address: string): Promise<void> {
    const friend = this.#friends.get(address);
    if (friend) await this.#observe(friend);
    this.changed();
  }
}
