import type { Address } from "../../shared/address.js";
import { fromB64u, toB64 } from "../../shared/base64url.js";
import { nameLine, type PersonName, personNames } from "../../shared/client/display-names.js";
import type { Avatar, Profile } from "../../shared/profile.js";
import type { EmsgClient } from "./core-types.js";
import { Observable } from "./observable.js";

/** What the names need of the core: everyone's profiles, the friends, nicknames where the client keeps them, and news of each. */
export type ProfileClient = Pick<EmsgClient, "address" | "profiles" | "friends"> &
  Partial<Pick<EmsgClient, "nicknames">> & { readonly events: Pick<EmsgClient["events"], "on"> };

/** A person as every screen shows them (PROTOCOL §8.2). */
export interface PersonView {
  address: Address;
  /** Their display name (or nickname, or address's local part). */
  name: string;
  /** The name, with the address beside it when the name could pass for someone else's. */
  line: string;
  withAddress: boolean;
  /** A `data:` URL of their avatar, or null. */
  avatar: string | null;
  initial: string;
}

export function avatarUrl(avatar: Avatar | undefined): string | null {
  return avatar ? `data:${avatar.mediaType};base64,${toB64(fromB64u(avatar.data))}` : null;
}

export const initialOf = (text: string) => (text.match(/[\p{L}\p{N}]/u)?.[0] ?? "#").toUpperCase();

/**
 * The display names and avatars of everyone this device knows (friends, members of its chats, this
 * account), kept current from the core's `profile` and `friend` events: a changed name shows at once.
 */
export class PeopleNames extends Observable {
  readonly #client: ProfileClient;
  #profiles = new Map<Address, Profile>();
  #nicknames = new Map<Address, string>();
  readonly #people = new Set<Address>();
  #resolve: (address: Address) => PersonName = personNames({ people: [], names: new Map() });

  constructor(client: ProfileClient) {
    super();
    this.#client = client;
    client.events.on("profile", ({ address, profile }) => {
      this.#profiles.set(address, profile);
      this.#people.add(address);
      this.#rebuild();
    });
    client.events.on("friend", (friend) => this.addPeople([friend.address]));
    client.events.on("nickname", ({ address, nickname }) => {
      if (nickname === null) this.#nicknames.delete(address);
      else this.#nicknames.set(address, nickname);
      this.#rebuild();
    });
  }

  async load(): Promise<void> {
    this.#profiles = new Map(await this.#client.profiles());
    this.#nicknames = new Map((await this.#client.nicknames?.()) ?? []);
    for (const friend of await this.#client.friends()) this.#people.add(friend.address);
    for (const address of this.#profiles.keys()) this.#people.add(address);
    this.#rebuild();
  }

  /** People shown together with the others (a group's members): their names are told apart too. */
  addPeople(addresses: Iterable<Address>): void {
    const before = this.#people.size;
    for (const address of addresses) this.#people.add(address);
    if (this.#people.size !== before) this.#rebuild();
  }

  #rebuild(): void {
    this.#people.add(this.#client.address);
    const names = new Map([...this.#profiles].map(([address, p]) => [address, p.name]));
    this.#resolve = personNames({ people: this.#people, names, nicknames: this.#nicknames });
    this.changed();
  }

  /** Resolves names for labels elsewhere (a group's senders); a new function after every change. */
  get resolve(): (address: Address) => PersonName {
    return this.#resolve;
  }

  /** How `address` is shown; `full` says to fall back to the whole address rather than its local part. */
  person(address: Address, { full = false } = {}): PersonView {
    const named = this.#resolve(address);
    const name = named.source === "address" && full ? address : named.name;
    return {
      address,
      name,
      line: named.source === "address" ? name : nameLine(named),
      withAddress: named.withAddress,
      avatar: avatarUrl(this.#profiles.get(address)?.avatar),
      initial: initialOf(name),
    };
  }

  /** The nickname this device's user gave `address`, if any. */
  nickname(address: Address): string | undefined {
    return this.#nicknames.get(address);
  }

  /** This account's own profile, as set on any of its devices. */
  get own(): Profile | undefined {
    return this.#profiles.get(this.#client.address);
  }
}
