import type { Friend } from "../../shared/client/friends.js";
import type { FriendView } from "../messaging/messages.js";

/** What crosses from the background to its pages: no keys, no MLS state, only what is shown. */
export function friendView(friend: Friend): FriendView {
  return {
    address: friend.address,
    state: friend.state,
    since: friend.since,
    ...(friend.note ? { note: friend.note } : {}),
    ...(friend.bounced ? { bounced: friend.bounced } : {}),
    ...(friend.movedTo ? { movedTo: friend.movedTo } : {}),
  };
}
