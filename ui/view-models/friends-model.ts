import type { Address } from "../../shared/address.js";
import { EmsgError } from "../../shared/errors.js";
import type { Translate } from "../i18n/translate.js";
import type { AppContext } from "./app-context.js";
import type { Friend } from "./core-types.js";
import { errorText, friendRequestProblem } from "./error-text.js";
import { readFriendInput } from "./friend-input.js";
import { ActionModel } from "./action-model.js";
import { friendTrust, type Trust, UNTRUSTED } from "./friend-trust.js";

export interface FriendRow {
  address: Address;
  initial: string;
  note: string;
  problem: string;
  canAnswer: boolean;
  /** A request we sent, waiting or come back: its sender may take it back (or dismiss it). */
  canWithdraw: boolean;
  isFriend: boolean;
  verified: boolean;
  keyChanged: boolean;
  /** Where this friend moved, or where they moved from (PROTOCOL §11). */
  movedTo: Address | null;
  movedFrom: Address | null;
}

/** A row of the friends screen; a bounced request shows the reason as a sentence naming them. */
export function friendRow(friend: Friend, trust: Trust, t: Translate): FriendRow {
  return {
    address: friend.address,
    initial: (friend.address[0] ?? "#").toUpperCase(),
    note: friend.state === "incoming" || friend.state === "held" ? (friend.note ?? "") : "",
    problem: friend.bounced ? friendRequestProblem(friend.bounced, friend.address, t) : "",
    canAnswer: friend.state === "incoming" || friend.state === "held",
    canWithdraw: friend.state === "outgoing",
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
export function sentNote(to: string | null, request: { state: string; bounced?: string } | undefined, t: Translate, unreachable = false): string | null {
  if (to === null) return null;
  const waiting = !request || ((request.state === "outgoing" || request.state === "queued") && !request.bounced);
  if (!waiting) return null;
  return unreachable ? t("friends.sentWaiting", { address: to }) : t("friends.sent", { address: to });
}

/** Friends, requests in and out, and the add-a-friend form. */
export class FriendsViewModel extends ActionModel {
  readonly #ctx: AppContext;
  #friends = new Map<string, Friend>();
  #trust = new Map<string, Trust>();
  /** Whom the request sent from this screen went to, for the note saying so. */
  #sentTo: Address | null = null;
  /** Whether that address's server could not be reached when it was sent: the note warns. */
  #sentUnreachable = false;
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

  /** The core's and server's failures are English: the screen words them by code, in its language. */
  readonly #describe = (error: unknown) => errorText(error, this.#ctx.t);

  async load(): Promise<void> {
    this.#friends = new Map((await this.#ctx.client.friends()).map((f) => [f.address, f]));
    for (const friend of this.#friends.values()) await this.#observe(friend);
    this.changed();
  }

  async #observe(friend: Friend): Promise<void> {
    this.#trust.set(friend.address, await friendTrust(this.#ctx.records, friend));
  }

  #rows(states: readonly Friend["state"][]): FriendRow[] {
    return [...this.#friends.values()]
      .filter((f) => states.includes(f.state))
      .sort((a, b) => a.address.localeCompare(b.address))
      .map((f) => friendRow(f, this.#trust.get(f.address) ?? UNTRUSTED, this.#ctx.t));
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
    return sentNote(this.#sentTo, this.#sentTo === null ? undefined : this.#friends.get(this.#sentTo), this.#ctx.t, this.#sentUnreachable);
  }

  /** The note is a warning: the request waits for a server that could not be reached. */
  get noticeWarns(): boolean {
    return this.#sentUnreachable && this.notice !== null;
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
    const address = input.address;
    // Said, not sent: a friend needs no request, and the field keeps what was typed.
    if (this.#friends.get(address)?.state === "friend") {
      this.error = this.#ctx.t("friends.already", { address });
      this.changed();
      return false;
    }
    return this.attempt(async () => {
      // Refused now, in words, rather than "request sent" and a bounce later; a server that cannot
      // be reached (perhaps a mistyped domain) is said at once too, though the request waits for it.
      const standing = await this.#ctx.client.accountStanding(address);
      if (standing === "none") throw new EmsgError("not_found");
      await this.#ctx.client.sendFriendRequest(address, note.trim());
      this.draft = "";
      this.#sentTo = address;
      this.#sentUnreachable = standing === "unreachable";
    }, (error) => friendRequestProblem(error, address, this.#ctx.t));
  }

  accept(address: Address): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.acceptFriend(address), this.#describe);
  }
  decline(address: Address): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.declineFriend(address), this.#describe);
  }
  block(address: Address): Promise<boolean> {
    return this.attempt(async () => {
      await this.#ctx.client.block(address);
      await this.load();
    }, this.#describe);
  }
  /** A name for a friend that only this device shows; empty takes it away (PROTOCOL §8.2). */
  setNickname(address: Address, nickname: string): Promise<boolean> {
    return this.attempt(() => this.#ctx.client.setNickname(address, nickname), this.#describe);
  }
  /** Ends the friendship; the chat stays readable, and writing needs a new request. */
  remove(address: Address): Promise<boolean> {
    return this.attempt(async () => {
      await this.#ctx.client.removeFriend(address);
      await this.load();
    }, this.#describe);
  }
  /** Takes back a request we sent: one still waiting, or one that came back (dismissed). */
  withdraw(address: Address): Promise<boolean> {
    // "Request sent" would outlive the request.
    if (this.#sentTo === address) this.#sentTo = null;
    return this.attempt(() => this.#ctx.client.withdrawFriendRequest(address), this.#describe);
  }

  /** After the safety dialog marked or cleared verification. */
  async trustChanged(address: string): Promise<void> {
    const friend = this.#friends.get(address);
    if (friend) await this.#observe(friend);
    this.changed();
  }
}
