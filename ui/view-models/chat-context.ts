import type { FileSource, MediaInfo, TransferOptions } from "../../shared/client/attachments.js";
import type { AppContext } from "./app-context.js";
import type { EmsgClient, MessageRecord } from "./core-types.js";

/** What the browser hands over for a picked, dropped or pasted file (a `File` or `Blob` has all of it). */
export interface PickedFile {
  name: string;
  type: string;
  size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** A file to send, read in pieces, with what was picked: a client in another context passes the file itself over. */
export interface PickedSource extends FileSource {
  picked: PickedFile;
}

/**
 * The part of the client core the chat screens use: the core itself in the PWA; in the extension,
 * requests to its background, which holds the keys.
 */
export type ChatClient = Pick<
  EmsgClient,
  | "address" | "pathOf" | "history" | "conversations" | "friends" | "chatRetention" | "setChatRetention" | "sendText" | "editMessage" | "setTyping"
  | "react" | "deleteForEveryone" | "markRead" | "downloadAttachment" | "search" | "createGroup" | "renameGroup" | "addToGroup" | "removeFromGroup" | "leaveGroup"
  | "profiles" | "uploads" | "cancelUpload" | "canRetry" | "retryMessage" | "deleteFailed"
> & {
  readonly events: Pick<EmsgClient["events"], "on">;
  sendFile(target: string, source: PickedSource, media?: MediaInfo, options?: TransferOptions): Promise<MessageRecord>;
};

/** What the chat list, a conversation and its files share: the PWA's app model is one. */
export interface ChatContext extends Omit<AppContext, "client" | "showSafety"> {
  readonly client: ChatClient;
}
