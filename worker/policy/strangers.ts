import type { FriendState } from "../../shared/wire/friends.js";
import type { StrangerPolicy } from "../../shared/wire/account.js";

/**
 * Who may reach an account (PROTOCOL §9). `state` is the recipient's relation to the
 * sender, undefined for a stranger. Pure, so the rules are tested without workerd.
 */
export type Admission = { verdict: "deliver" } | { verdict: "hold" } | { verdict: "refuse"; code: "forbidden" | "stranger_refused" };

const deliver: Admission = { verdict: "deliver" };
const blocked = { verdict: "refuse", code: "forbidden" } as const;
const refused = { verdict: "refuse", code: "stranger_refused" } as const;

/** A friend request: friends and people we asked ourselves always get through. */
export function admitFriendRequest(state: FriendState | undefined, policy: StrangerPolicy): Admission {
  if (state === "blocked") return blocked;
  if (state === "friend" || state === "outgoing" || state === "incoming") return deliver;
  if (state === "held") return { verdict: "hold" };
  if (policy === "accept") return deliver;
  if (policy === "review") return { verdict: "hold" };
  return refused;
}

/** A friend response is only wanted from someone we sent a request to (or a friend re-confirming). */
export function admitFriendResponse(state: FriendState | undefined): Admission {
  if (state === "blocked") return blocked;
  if (state === "outgoing" || state === "friend") return deliver;
  return blocked;
}

/**
 * How far the receiving server believes a conversation item's author (PROTOCOL §9): `proven`
 * (on the hub's domain, hosted here, or its proof verified), `unchecked` (a proof came with it,
 * not verified yet), `unproven` (none, or it failed).
 */
export type AuthorStanding = "proven" | "unchecked" | "unproven";

/** `join`: the account takes part in the conversation from now on. `prove`: decide again once the proof is checked. */
export type ConvAdmission = { verdict: "deliver"; join: boolean } | { verdict: "prove" } | { verdict: "refuse"; code: "forbidden" | "stranger_refused" };

/**
 * A conversation item from `sender`. A conversation the account already takes part in (it
 * created it, submitted to it, or a proven friend brought it in) reaches it from any member:
 * that is how a group works when its members are not all friends with each other. An author the
 * hub names without proof counts as a stranger, never as the friend it claims to be, and joins
 * nothing; a blocked address stays refused whoever claims it. A proof is asked for only when the
 * verdict hangs on it.
 */
export function admitConversationItem(state: FriendState | undefined, policy: StrangerPolicy, joined: boolean, author: AuthorStanding): ConvAdmission {
  if (state === "blocked") return blocked;
  if (joined) return { verdict: "deliver", join: false };
  if (state === "friend" && author === "proven") return { verdict: "deliver", join: true };
  if (state === "friend" && author === "unchecked") return { verdict: "prove" };
  if (policy === "accept") return { verdict: "deliver", join: false };
  return refused;
}
