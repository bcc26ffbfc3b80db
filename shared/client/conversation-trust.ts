import type { Address } from "../address.js";
import { type GroupState, membersOf, verifyMembers } from "../mls/group-state.js";
import type { CoreContext } from "./context.js";
import { getFriend, pinnedKey } from "./friends.js";

/**
 * What a device believes about a conversation's people (PROTOCOL §8): only what MLS and pinned keys
 * prove. A server's `members`, `from` and `deviceId` are hints, checked against the group's tree.
 */
export interface Proven {
  /** The accounts in the tree, in leaf order: the roster shown and used. */
  members: Address[];
  /**
   * The friend this is the 1:1 with: the tree holds exactly their account and ours, and every leaf
   * of theirs verified under the key pinned for them (`accountKey`).
   */
  friend?: { address: Address; accountKey: string };
}

/** The accounts with a leaf in the group's tree, in leaf order. */
export function accountsOf(state: GroupState): Address[] {
  return [...new Set(membersOf(state).map((m) => m.address))] as Address[];
}

async function keyFor(ctx: CoreContext, address: string): Promise<string | undefined> {
  if (address === ctx.account.address) return ctx.account.accountPublicKey;
  return (await getFriend(ctx, address as Address))?.accountKey || undefined;
}

/**
 * Reads the group's people from its tree. Every leaf's certificate verified under its own account
 * key when it entered (ts-mls asks `deviceCredentialService`); here each is checked against the key
 * pinned for its address, where there is one, ours included: `unauthorized` names the first that fails.
 */
export async function proveMembers(ctx: CoreContext, state: GroupState): Promise<Proven> {
  const members = accountsOf(state);
  const keys = new Map<string, string | undefined>();
  for (const address of members) keys.set(address, await keyFor(ctx, address));
  verifyMembers(state, (address) => keys.get(address));
  const others = members.filter((a) => a !== ctx.account.address);
  if (others.length !== 1 || members.length !== 2) return { members };
  const address = others[0]!;
  const accountKey = await pinnedKey(ctx, address);
  // A friend's key was the one checked above (an incoming request's key is not pinned yet).
  return accountKey !== undefined && accountKey === keys.get(address) ? { members, friend: { address, accountKey } } : { members };
}
