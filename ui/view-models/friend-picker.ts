import type { Address } from "../../shared/address.js";
import type { PersonName } from "../../shared/client/display-names.js";
import type { Friend } from "./core-types.js";

export interface PickRow {
  address: Address;
  /** Their display name (or the nickname given them), else the address. */
  name: string;
  /** The address under a name, as the friend list shows it: a name is only their claim (PROTOCOL §8.2). */
  detail: string;
  checked: boolean;
}

/** How the picker names a friend: PeopleNames' `resolve`, read when the rows are drawn. */
export type PickerNames = (address: Address) => PersonName | undefined;

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
  readonly #names: PickerNames | undefined;

  constructor(choices: readonly Address[], names?: PickerNames) {
    this.choices = choices;
    this.#names = names;
  }

  get searchable(): boolean {
    return this.choices.length > SEARCH_FROM;
  }

  /** Each friend by name, found by name or address. */
  get rows(): PickRow[] {
    const query = this.query.trim().toLowerCase();
    return this.choices
      .map((address) => {
        const named = this.#names?.(address);
        const name = named && named.source !== "address" ? named.name : address;
        return { address, name, detail: name === address ? "" : address, checked: this.selected.has(address) };
      })
      .filter((row) => row.address.includes(query) || row.name.toLowerCase().includes(query));
  }

  toggle(address: Address): void {
    if (!this.selected.delete(address) && this.choices.includes(address)) this.selected.add(address);
  }

  /** The chosen friends, in list order. */
  get chosen(): Address[] {
    return this.choices.filter((a) => this.selected.has(a));
  }
}
