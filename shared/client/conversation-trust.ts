import type { Address } from "../address.js";
import { type GroupState, membersOf, verifyMembers } from "../mls/group-state.js";
import type { DeviceCertBody } from "../identity.js";
import type { CoreContext } from "./context.js";
import { checkListed } from "./device-lists.js";
import { getFriend } from "./friends.js";

/**
 * What a device believes about a conversation's people (PROTOCOL §8): only what MLS and the keys it
 * holds prove. A server's `members`, `from` and `deviceId` are hints, checked against the group's tree.
 */
export interface Proven {
  /** The accounts in the tree, in leaf order: the roster shown and used. */
  members: Address[];
  /**
   * The other account when the tree holds exactly theirs and ours: a 1:1. `accountKey` is the key
   * this device holds for them (a friend's pinned key, or their pending request's), under which
   * every leaf of theirs verified; absent for someone this device holds no key of.
   */
  peer?: { address: Address; accountKey?: string };
}

/** The accounts with a leaf in the group's tree, in leaf order. */
export function accountsOf(state: GroupState): Address[] {
  return [...new Set(membersOf(state).map((m) => m.address))] as Address[];
}

/** The key this device holds for `address`: its own account's, or the one a friend entry holds. */
export async function keyFor(ctx: CoreContext, address: string): Promise<string | undefined> {
  if (address === ctx.account.address) return ctx.account.accountPublicKey;
  return (await getFriend(ctx, address as Address))?.accountKey || undefined;
}

/**
 * Reads the group's people from its tree. Every leaf's certificate verified under its own account
 * key when it entered (ts-mls asks `deviceCredentialService`); here each is checked against the key
 * this device holds for its address, where it holds one, ours included, and each device that
 * `entered` now (all of them on a join, the added ones on a commit) must be one its home server
 * lists (§6, Revocation): `unauthorized` names the first that fails.
 */
export async function proveMembers(ctx: CoreContext, state: GroupState, entered: DeviceCertBody[] = membersOf(state)): Promise<Proven> {
  const members = accountsOf(state);
  const keys = new Map<string, string | undefined>();
  for (const address of members) keys.set(address, await keyFor(ctx, address));
  verifyMembers(state, (address) => keys.get(address));
  await checkListed(ctx, entered, (address) => keys.get(address));
  const others = members.filter((a) => a !== ctx.account.address);
  if (others.length !== 1 || members.length !== 2) return { members };
  const address = others[0]!;
  const accountKey = keys.get(address);
  return { members, peer: accountKey === undefined ? { address } : { address, accountKey } };
}
