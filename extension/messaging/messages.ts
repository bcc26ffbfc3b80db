import * as v from "valibot";

/**
 * What content scripts, the popup and the side panel may ask the background service worker.
 * Only the background holds keys and talks to servers; everything else asks it.
 */
export const RequestSchema = v.variant("type", [
  v.object({ type: v.literal("add-friend"), address: v.pipe(v.string(), v.maxLength(400)), note: v.optional(v.pipe(v.string(), v.maxLength(280))) }),
  v.object({ type: v.literal("open-panel") }),
  v.object({ type: v.literal("status") }),
]);

export type Request = v.InferOutput<typeof RequestSchema>;

/** Where an added friend stands, as a person would say it. */
export type FriendState = "queued" | "outgoing" | "incoming" | "held" | "friend" | "blocked";

export type Reply<T> = ({ ok: true } & T) | { ok: false; error: string; message: string };

export interface AddFriendReply {
  address: string;
  state: FriendState;
}

export interface StatusReply {
  account: string | null;
  friends: Array<{ address: string; state: FriendState }>;
}

export interface ReplyOf {
  "add-friend": Reply<AddFriendReply>;
  "open-panel": Reply<{ opened: "side-panel" | "sidebar" | "tab" }>;
  status: Reply<StatusReply>;
}
