import type { Address } from "../address.js";

/**
 * What to call a person on screen (PROTOCOL §8.2). A display name is a claim of its owner, so a
 * name that reads like someone else's (another person's name, or an address) is shown with the
 * owner's address, as Signal and Matrix do with names that collide: nobody can pass as a friend
 * by taking their name. A nickname the user gave a friend on this device wins over their name.
 */
export interface PersonName {
  address: Address;
  /** What is shown: the nickname, the display name, or the address's local part. */
  name: string;
  source: "nickname" | "profile" | "address";
  /** The name alone could mislead: show the address beside it, not one click away. */
  withAddress: boolean;
}

export interface NameSources {
  /** Everyone who can appear beside each other (friends, group members, this account). */
  people: Iterable<Address>;
  /** Display names by address (from profiles). */
  names: ReadonlyMap<Address, string>;
  /** Names this device's user gave people. */
  nicknames?: ReadonlyMap<Address, string>;
}

const localPart = (address: string) => (address.includes("#") ? address.slice(0, address.indexOf("#")) : address);

// Letters of other scripts drawn like Latin ones, and digits and shapes read as letters (a small
// part of Unicode's confusables, UTS #39, for the ones seen in impersonation).
const LOOKALIKES: Record<string, string> = {
  а: "a", в: "b", е: "e", ё: "e", к: "k", м: "m", н: "h", о: "o", р: "p", с: "c", т: "t", у: "y", х: "x", ѕ: "s", і: "l", ї: "l", ј: "j", һ: "h", ԁ: "d", ԛ: "q", ԝ: "w",
  α: "a", β: "b", ε: "e", η: "n", ι: "l", κ: "k", ν: "v", ο: "o", ρ: "p", τ: "t", υ: "u", χ: "x", ω: "w",
  "0": "o", "1": "l", i: "l", "|": "l", "!": "l", "$": "s", "5": "s", "@": "a", "3": "e",
};

/** One spelling for names that read alike: case, accents, width, spacing, punctuation and lookalike letters aside. */
export function nameSkeleton(name: string): string {
  const folded = name.normalize("NFKD").replace(/\p{M}|\p{Default_Ignorable_Code_Point}/gu, "").toLowerCase();
  const mapped = [...folded].map((c) => LOOKALIKES[c] ?? c).join("");
  return mapped.replace(/rn/g, "m").replace(/vv/g, "w").replace(/[\s\p{P}\p{S}]/gu, "");
}

/** Whether a name reads as an address (`alice#im.alice.test`, `alice@example.com`). */
function looksLikeAddress(name: string): boolean {
  return /[#@＃＠﹟﹫]/u.test(name.normalize("NFKC")) || /\.[a-z]{2,}$/iu.test(name.trim());
}

/** Names for a set of people shown together: `nameOf(address)` for each of them (and anyone else). */
export function personNames({ people, names, nicknames = new Map() }: NameSources): (address: Address) => PersonName {
  const everyone = [...new Set(people)];
  // Every way each person can be read on screen: their name and their address's local part.
  const readings = new Map<string, Set<Address>>();
  const add = (reading: string, address: Address) => {
    const key = nameSkeleton(reading);
    if (key) readings.set(key, (readings.get(key) ?? new Set()).add(address));
  };
  for (const address of everyone) {
    add(localPart(address), address);
    const shown = nicknames.get(address) ?? names.get(address);
    if (shown !== undefined) add(shown, address);
  }
  const othersRead = (reading: string, address: Address) => [...(readings.get(nameSkeleton(reading)) ?? [])].some((a) => a !== address);
  return (address) => {
    const nickname = nicknames.get(address);
    if (nickname !== undefined) return { address, name: nickname, source: "nickname", withAddress: othersRead(nickname, address) };
    const name = names.get(address);
    // A name of which nothing reads (fillers, marks, symbols alone) would show the person as a blank.
    if (name !== undefined) return { address, name, source: "profile", withAddress: looksLikeAddress(name) || !nameSkeleton(name) || othersRead(name, address) };
    const short = localPart(address);
    return { address, name: othersRead(short, address) ? address : short, source: "address", withAddress: false };
  };
}

/** The one line naming a person: the name, and the address beside it when the name could mislead. */
export function nameLine(person: PersonName): string {
  return person.withAddress ? `${person.name} (${person.address})` : person.name;
}
