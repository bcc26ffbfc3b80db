import type { Address } from "../../shared/address.js";
import type { Friend } from "./core-types.js";

export interface PickRow {
  address: Address;
  checked: boolean;
}

/** More friends than this and the picker offers a search field. */
export const SEARCH_FROM = 8;

/** What the picker reads of a friend: the core's record, or the extension's view of one. */
export type PickableFriend = Pick<Friend, "address" | "movedTo"> & { state: string };

/** Friends who can be put into a group: accepted, still at this address, not already in it. */
export function pickable(friends: readonly PickableFriend[], exclude: Iterable<Address> = []): Address[] {
  const skip = new Set(exclude);
  return friends
    .filter((f) => f.state === "friend" && !f.movedTo && !skip.has(f.address))
    .map((f) => f.address)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * The checkbox list of friends for a new group or for adding to one. A search hides rows but
 * never unchecks them: what was chosen stays chosen.
 */
export class FriendPicker {
  readonly choices: readonly Address[];
  readonly selected = new Set<Address>();
  query = "";

  constructor(choices: readonly Address[]) {
    this.choices = choices;
  }

  get searchable(): boolean {
    return this.choices.length > SEARCH_FROM;
  }

  get rows(): PickRow[] {
    const query = this.query.trim().toLowerCase();
    return this.choices.filter((a) => a.includes(query)).map((address) => ({ address, checked: this.selected.has(address) }));
  }

  toggle(address: Address): void {
    if (!this.selected.delete(address) && this.choices.includes(address)) this.selected.add(address);
  }

  /** The chosen friends, in list order. */
  get chosen(): Address[] {
    return this.choices.filter((a) => this.selected.has(a));
  }
}
