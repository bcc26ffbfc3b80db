import * as v from "valibot";
import type { ConversationSummary, DeviceInfo, DeviceLinkOffer, Friend, MessageRecord } from "../../shared/client/index.js";
import type { ClientEvents, UploadProgress } from "../../shared/client/context.js";
import type { Address } from "../../shared/address.js";
import { AvatarSchema, type Profile } from "../../shared/profile.js";

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const Members = v.pipe(v.array(Text(400)), v.minLength(1), v.maxLength(500));

/** A message's id (base64url), and how many of something a page asks for. */
const Id = Text(100);
const Count = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(500));

/** A retention in days, within the account setting's bounds (PROTOCOL §6). */
const Days = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3650));

/**
 * What content scripts, the popup and the side panel may ask the background service worker.
 * Only the background holds keys and talks to servers; everything else asks it.
 */
export const RequestSchema = v.variant("type", [
  v.object({ type: v.literal("add-friend"), address: Text(400), note: v.optional(Text(280)) }),
  v.object({ type: v.literal("open-panel") }),
  v.object({ type: v.literal("status") }),
  v.object({ type: v.literal("register"), address: Text(400), server: v.optional(Text(400)) }),
  v.object({ type: v.literal("link"), code: Text(600), server: v.optional(Text(400)) }),
  v.object({ type: v.literal("respond"), address: Text(400), verdict: v.picklist(["accept", "decline", "block"]) }),
  // Takes back a request this account sent, waiting or come back undelivered.
  v.object({ type: v.literal("withdraw-friend"), address: Text(400) }),
  v.object({ type: v.literal("group"), conversation: Text(400) }),
  v.object({ type: v.literal("create-group"), title: Text(400), members: Members }),
  v.object({ type: v.literal("rename-group"), conversation: Text(400), title: Text(400) }),
  v.object({ type: v.literal("add-to-group"), conversation: Text(400), members: Members }),
  v.object({ type: v.literal("remove-from-group"), conversation: Text(400), members: Members }),
  v.object({ type: v.literal("leave-group"), conversation: Text(400) }),
  v.object({ type: v.literal("settings") }),
  v.object({ type: v.literal("chat-retention"), chat: Text(400) }),
  v.object({ type: v.literal("set-chat-retention"), chat: Text(400), retention: v.union([v.literal("account"), v.nullable(Days)]) }),
  v.object({ type: v.literal("sync") }),
  // A device its account removed deletes what it holds (the background refuses it otherwise).
  v.object({ type: v.literal("forget-device") }),
  // What the shared chat view models (ui/) ask the core, each answered with the core's own records.
  // `chat` is a friend's address (a 1:1 chat, made on the first send) or a conversation id.
  v.object({ type: v.literal("summaries") }),
  v.object({ type: v.literal("friend-records") }),
  v.object({ type: v.literal("messages"), chat: Text(400), limit: v.optional(Count), before: v.optional(v.number()), beforeId: v.optional(Id) }),
  v.object({ type: v.literal("send-text"), chat: Text(400), text: Text(20_000), replyTo: v.optional(Id) }),
  v.object({ type: v.literal("edit"), id: Id, text: Text(20_000) }),
  v.object({ type: v.literal("react"), id: Id, emoji: Text(32), op: v.picklist(["add", "remove"]) }),
  v.object({ type: v.literal("delete-message"), id: Id }),
  // A message of ours that failed to send: whether it can go again, send it again (the person's Retry), delete it here.
  v.object({ type: v.literal("can-retry"), id: Id }),
  v.object({ type: v.literal("retry-message"), id: Id }),
  v.object({ type: v.literal("delete-failed"), id: Id }),
  v.object({ type: v.literal("typing"), chat: Text(400), typing: v.boolean() }),
  v.object({ type: v.literal("mark-read"), chat: Text(400) }),
  v.object({ type: v.literal("search"), query: Text(400), conversation: v.optional(Text(400)), limit: v.optional(Count) }),
  v.object({ type: v.literal("expire") }),
  // A chat was pinned or muted in this page: the toolbar badge counts again.
  v.object({ type: v.literal("marks-changed") }),
  // Uploads the core went on with by itself (after the background restarted, or back online).
  v.object({ type: v.literal("uploads") }),
  v.object({ type: v.literal("cancel-upload"), id: Id }),
  v.object({ type: v.literal("profiles") }),
  // Comparing keys with a friend (PROTOCOL §4): the number with them, and this account's public key for our own code.
  v.object({ type: v.literal("safety-number"), address: Text(400) }),
  v.object({ type: v.literal("account-key") }),
  // Names this device's user gives friends, kept on this device (PROTOCOL §8.2); empty takes one away.
  v.object({ type: v.literal("nicknames") }),
  v.object({ type: v.literal("set-nickname"), address: Text(400), nickname: Text(400) }),
  // This account's display name and avatar (PROTOCOL §8.2); `avatar` null removes it, absent keeps it.
  v.object({ type: v.literal("profile") }),
  v.object({ type: v.literal("set-profile"), name: Text(400), avatar: v.optional(v.nullable(AvatarSchema)) }),
  // This account's devices (PROTOCOL §6): listed, a link code for a new one, another one removed.
  v.object({ type: v.literal("devices") }),
  v.object({ type: v.literal("this-device") }),
  v.object({ type: v.literal("start-device-link") }),
  v.object({ type: v.literal("remove-device"), deviceId: Id }),
  // Deletes the account on its server (friends are told) and everything this browser keeps of it.
  v.object({ type: v.literal("delete-account") }),
  v.object({
    type: v.literal("set-settings"),
    strangers: v.optional(v.picklist(["accept", "refuse", "review"])),
    retentionDays: v.optional(v.nullable(Days)),
  }),
]);

export type Request = v.InferOutput<typeof RequestSchema>;
export type RequestType = Request["type"];

/** What a web page's content script may ask: nothing that reads the account, friends or messages. */
export const PAGE_REQUESTS: ReadonlySet<RequestType> = new Set(["add-friend", "open-panel"]);

/** Where a friend stands, as a person would say it; `queued` waits for this device's setup. */
export type FriendState = "queued" | "outgoing" | "incoming" | "held" | "friend" | "blocked" | "declined" | "gone";

export type Reply<T> = ({ ok: true } & T) | { ok: false; error: string; message: string };

export interface FriendView {
  address: string;
  state: FriendState;
  since: number;
  note?: string;
  bounced?: string;
  /** They moved to this address: a group takes them there, not here. */
  movedTo?: string;
}

/** A group as the core summarizes it: its name, roster, whether we are still in it. No keys. */
export type GroupView = ConversationSummary;

export interface SettingsView {
  strangers: "accept" | "refuse" | "review";
  retentionDays: number | null;
}

/** A chat's own retention: days, `null` to keep forever, or "account" to follow the account's setting. */
export type ChatRetention = number | null | "account";

export interface ChatRetentionView {
  retention: ChatRetention;
  /** The account's setting, which "account" follows. */
  accountDays: number | null;
}

/** `removed`: the server said this device was removed from its account (PROTOCOL §6). */
export type Connection = "none" | "connecting" | "online" | "offline" | "removed";

export interface ReplyOf {
  /** `unreachable` (to EMSG's own pages only): the address's server could not be reached; the request waits for it. */
  "add-friend": Reply<{ address: string; state: FriendState; unreachable?: true }>;
  "open-panel": Reply<{ opened: "side-panel" | "sidebar" | "tab" }>;
  status: Reply<{ account: string | null; connection: Connection; friends: FriendView[] }>;
  register: Reply<{ account: string }>;
  link: Reply<{ account: string }>;
  respond: Reply<{ friend: FriendView }>;
  "withdraw-friend": Reply<{ done: true }>;
  group: Reply<{ group: GroupView }>;
  "create-group": Reply<{ group: GroupView }>;
  "rename-group": Reply<{ done: true }>;
  "add-to-group": Reply<{ done: true }>;
  "remove-from-group": Reply<{ done: true }>;
  "leave-group": Reply<{ done: true }>;
  settings: Reply<{ settings: SettingsView }>;
  "chat-retention": Reply<ChatRetentionView>;
  "set-chat-retention": Reply<ChatRetentionView>;
  sync: Reply<{ synced: boolean }>;
  "forget-device": Reply<{ done: true }>;
  "set-settings": Reply<{ settings: SettingsView }>;
  summaries: Reply<{ summaries: ConversationSummary[] }>;
  "friend-records": Reply<{ friends: Friend[] }>;
  messages: Reply<{ messages: MessageRecord[] }>;
  "send-text": Reply<{ record: MessageRecord }>;
  edit: Reply<{ record: MessageRecord }>;
  react: Reply<{ record: MessageRecord }>;
  "delete-message": Reply<{ record: MessageRecord }>;
  "can-retry": Reply<{ retry: boolean }>;
  "retry-message": Reply<{ record: MessageRecord }>;
  "delete-failed": Reply<{ done: true }>;
  typing: Reply<{ done: true }>;
  "mark-read": Reply<{ done: true }>;
  search: Reply<{ messages: MessageRecord[] }>;
  expire: Reply<{ removed: number }>;
  "marks-changed": Reply<{ done: true }>;
  uploads: Reply<{ uploads: UploadProgress[] }>;
  "cancel-upload": Reply<{ done: true }>;
  profiles: Reply<{ profiles: [Address, Profile][] }>;
  "safety-number": Reply<{ number: string }>;
  "account-key": Reply<{ accountKey: string }>;
  nicknames: Reply<{ nicknames: [Address, string][] }>;
  "set-nickname": Reply<{ nickname: string | null }>;
  profile: Reply<{ profile: Profile | null }>;
  "set-profile": Reply<{ profile: Profile }>;
  devices: Reply<{ devices: DeviceInfo[] }>;
  "this-device": Reply<{ device: DeviceInfo }>;
  "start-device-link": Reply<{ offer: DeviceLinkOffer }>;
  "remove-device": Reply<{ done: true }>;
  "delete-account": Reply<{ done: true }>;
}

/** The core's events the chat view models follow, passed on by the background to its own pages as they happen. */
export type ForwardedEvent = "message" | "status" | "typing" | "conversation" | "path" | "profile" | "nickname" | "friend" | "upload" | "catchUp" | "devices";
export const FORWARDED_EVENTS: readonly ForwardedEvent[] = ["message", "status", "typing", "conversation", "path", "profile", "nickname", "friend", "upload", "catchUp", "devices"];

export interface EventNotice<K extends ForwardedEvent = ForwardedEvent> {
  type: "emsg-event";
  event: K;
  payload: ClientEvents[K];
}

/** Sent by the background to its own pages when something they show changed. */
export interface ChangedNotice {
  type: "emsg-changed";
  what: "friends" | "messages" | "connection" | "account";
  /** With "messages": the ids of the messages expiry removed. */
  removed?: string[];
}

/** What the background sends its pages: the notices of one turn, in order (messaging/page-audience.ts). */
export interface NoticesMessage {
  type: "emsg-notices";
  notices: Array<ChangedNotice | EventNotice>;
}
