import type { FriendState } from "../../shared/wire/friends.js";
import type { StrangerPolicy } from "../../shared/wire/account.js";

/**
 * Who may reach an account (PROTOCOL §9). `state` is the recipient's relation to the
 * sender, undefined for a stranger. Pure, so the rules are tested without workerd.
 */
export type Admission = { verdict: "deliver" } | { verdict: "hold" } | { verdict: "refuse"; code: "forbidden" | "stranger_refused" };

const deliver: Admission = { verdict: "deliver" };
const blocked: Admission = { verdict: "refuse", code: "forbidden" };
const refused: Admission = { verdict: "refuse", code: "stranger_refused" };

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
 * A conversation item from `sender`. A conversation the account already takes part in (it
 * created it, submitted to it, or a friend brought it in) reaches it from any member: that is
 * how a group works when its members are not all friends with each other.
 */
export function admitConversationItem(state: FriendState | undefined, policy: StrangerPolicy, joined: boolean): Admission {
  if (state === "blocked") return blocked;
  if (state === "friend" || joined) return deliver;
  if (policy === "accept") return deliver;
  return refused;
}
