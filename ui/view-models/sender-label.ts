import type { Address } from "../../shared/address.js";
import { nameLine, type PersonName } from "../../shared/client/display-names.js";

/** How a group member is named and coloured wherever the group shows them. */
export interface SenderLabel {
  address: Address;
  /** The part before '#', or the whole address when two people of the group share that part. */
  name: string;
  /** Index into the stylesheet's sender palette (.sender-c0 … .sender-c7). */
  colour: number;
}

export const SENDER_COLOURS = 8;

export function localPart(address: string): string {
  const hash = address.indexOf("#");
  return hash < 0 ? address : address.slice(0, hash);
}

/**
 * The colour follows the address alone (FNV-1a), so a person keeps it in every group and on
 * every device, whoever else is in the group.
 */
export function senderColour(address: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) hash = Math.imul(hash ^ address.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SENDER_COLOURS;
}

/**
 * Names for the people of one group. `people` is everyone who can appear (roster and past
 * senders): a short name is used only where no one else among them would read the same. With
 * `names` (display names, PROTOCOL §8.2), a person who set one is called by it, with the address
 * beside it when it could pass for someone else's.
 */
export function senderLabels(people: Iterable<Address>, names?: (address: Address) => PersonName): (address: Address) => SenderLabel {
  const owners = new Map<string, Set<Address>>();
  for (const address of people) {
    const short = localPart(address);
    owners.set(short, (owners.get(short) ?? new Set()).add(address));
  }
  return (address) => {
    const named = names?.(address);
    if (named && named.source !== "address") return { address, name: nameLine(named), colour: senderColour(address) };
    const short = localPart(address);
    const others = [...(owners.get(short) ?? [])].filter((a) => a !== address);
    return { address, name: others.length > 0 ? address : short, colour: senderColour(address) };
  };
}

/** What a group's timeline needs to name people: who "you" are, and everyone else's label. */
export interface GroupLabels {
  self: Address;
  label(address: Address): SenderLabel;
}
