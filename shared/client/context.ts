import type { Address } from "../address.js";
import type { Emitter } from "./events.js";
import type { AccountRecord } from "./account-record.js";
import type { Friend } from "./friends.js";
import type { ConversationSummary } from "./conversation-record.js";
import type { MessageRecord } from "./messages.js";
import type { ServerApi } from "./server-api.js";
import type { Store } from "./store.js";
import type { Clock } from "./transport.js";
import type { MessagePath } from "./live-paths.js";
import type { Submit, SubmitAccepted } from "../wire/conversation.js";
import type { Profile } from "../profile.js";

export interface ClientEvents extends Record<string, unknown> {
  message: MessageRecord;
  /** A stored message changed: its status, its words (edited, deleted) or its reactions. */
  status: MessageRecord;
  /** Someone is typing in a conversation, or stopped (PROTOCOL §8.1); never stored. */
  typing: { conversation: string; from: Address; typing: boolean };
  friend: Friend;
  conversation: ConversationSummary;
  /**
   * The mailbox connection. `removed`: the server said this device was removed from its account
   * (`device_removed`, or its mailbox socket closed with 4001, PROTOCOL §6): nothing more can be sent
   * or received here, so it is not retried. Being offline is never taken for it.
   */
  connection: { state: "connecting" | "online" | "offline" | "removed"; error?: string };
  /** The way a conversation's messages travel changed (PROTOCOL §10). */
  path: { conversation: string; path: MessagePath };
  /** The account's device list changed (a device was linked or removed). */
  devices: { change: "added" | "removed"; deviceId: string };
  /** How much of the backlog the server sent on connecting is read and stored; `done === total` at the end. */
  catchUp: { done: number; total: number };
  /** An account's display name or avatar changed (this account's own included; PROTOCOL §8.2). */
  profile: { address: Address; profile: Profile };
  /** The user gave someone a nickname on this device, or took it away (null). */
  nickname: { address: Address; nickname: string | null };
  /**
   * An upload the core went on with by itself (after a reload, or back online): bytes sent of the
   * total as it goes, then once more with `running` false when it ended (sent, failed or cancelled).
   */
  upload: UploadProgress & { running: boolean };
}

/** Where an upload the core went on with by itself stands (`EmsgClient.uploads`). */
export interface UploadProgress {
  /** The message's id. */
  id: string;
  /** Its `MessageRecord.conversation`. */
  conversation: string;
  name: string;
  done: number;
  total: number;
}

/** A faster way to a conversation's hub than our own server (PROTOCOL §10): a session socket. */
export interface LiveRoute {
  /** `undefined` when no session is open, or it ended before the hub answered: use the mailbox path. */
  submit(conversation: string, submit: Submit): Promise<SubmitAccepted | undefined> | undefined;
}

/** What every part of the client core works with once an account exists on this device. */
export interface CoreContext {
  store: Store;
  api: ServerApi;
  clock: Clock;
  account: AccountRecord;
  events: Emitter<ClientEvents>;
  live?: LiveRoute;
}
