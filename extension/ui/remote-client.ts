import { browser } from "wxt/browser";
import type { Address } from "../../shared/address.js";
import type { ClientEvents } from "../../shared/client/context.js";
import { Emitter } from "../../shared/client/events.js";
import type { ImportProgress, ImportResult, MessagePath } from "../../shared/client/index.js";
import { EmsgError, isErrorCode } from "../../shared/errors.js";
import type { ChatClient } from "../../ui/view-models/chat-context.js";
import type { EmsgClient } from "../../ui/view-models/core-types.js";
import type { DevicesClient } from "../../ui/view-models/devices-model.js";
import { FILE_PORT, type FileAnswer, type FileChannel, type FileEnd, type FileRequest, requestFile } from "../messaging/file-port.js";
import { answered, groupRequests } from "./group-requests.js";
import { t } from "./i18n.js";
import { ask, onNotice } from "./panel-api.js";

type TransferOptions = Parameters<typeof requestFile>[2];

/** One file request to the background over a channel of its own (messaging/file-port.ts). */
async function transfer(request: FileRequest, options: TransferOptions = {}): Promise<FileEnd> {
  // Chrome's background is this origin's service worker; Firefox's is a page, reached by a runtime port.
  const worker = (await navigator.serviceWorker?.getRegistration())?.active;
  const toError = (failed: { error: string; message: string }) => new EmsgError(isErrorCode(failed.error) ? failed.error : "internal", failed.message);
  return requestFile(worker ? workerChannel(worker) : runtimeChannel(), request, options, toError);
}

/** A MessagePort handed to the service worker with the request. */
function workerChannel(worker: ServiceWorker): FileChannel {
  const channel = new MessageChannel();
  let first = true;
  return {
    post: (message) => {
      if (first) worker.postMessage(message, [channel.port2]);
      else channel.port1.postMessage(message);
      first = false;
    },
    listen: (onAnswer) => void (channel.port1.onmessage = ({ data }: MessageEvent<FileAnswer>) => onAnswer(data)),
    close: () => channel.port1.close(),
  };
}

function runtimeChannel(): FileChannel {
  const port = browser.runtime.connect({ name: FILE_PORT });
  return {
    post: (message) => port.postMessage(message),
    listen: (onAnswer, onGone) => {
      port.onMessage.addListener((message: unknown) => onAnswer(message as FileAnswer));
      port.onDisconnect.addListener(() => onGone());
    },
    close: () => port.disconnect(),
  };
}

/** The account sealed with `passphrase` by the background (PROTOCOL §11): the export file's text. */
export async function sealedExport(passphrase: string, onProgress: (fraction: number) => void): Promise<string> {
  const answer = await transfer({ kind: "export", passphrase }, { onProgress: (done, total) => onProgress(done / total) });
  if (!("bytes" in answer)) throw new EmsgError("internal", "EMSG could not do that; try again.");
  return new TextDecoder().decode(answer.bytes);
}

/**
 * An export moved in by the background (PROTOCOL §11), as the shared ImportViewModel runs it: at setup
 * `where.address` is the new address this device becomes; in Settings it is left out.
 */
export async function importedAccount(archive: string, passphrase: string, where: { address?: string; server?: string }, onStep: (progress: ImportProgress) => void): Promise<ImportResult> {
  const answer = await transfer({ kind: "import", archive, passphrase, ...where }, { onStep });
  if (!("imported" in answer)) throw new EmsgError("internal", "EMSG could not do that; try again.");
  return answer.imported;
}

/** What the panel asks of the core: the chats' part (ChatClient), safety numbers, nicknames and the account's devices. */
export type PanelClient = ChatClient & DevicesClient & Pick<EmsgClient, "safetyNumber" | "nicknames" | "setNickname">;

/**
 * The client core as the shared view models use it (PanelClient), for a page of the extension:
 * each call is a request to the background, which holds the keys, and the core's events come back
 * from it as they happen. Files cross as themselves, not as JSON (messaging/file-port.ts).
 */
export function remoteClient(self: Address): PanelClient {
  const events = new Emitter<ClientEvents>();
  const paths = new Map<string, MessagePath>();
  onNotice((notice) => {
    if (notice.type !== "emsg-event") return;
    if (notice.event === "path") {
      const { conversation, path } = notice.payload as ClientEvents["path"];
      paths.set(conversation, path);
    }
    events.emit(notice.event, notice.payload);
  });
  return {
    ...groupRequests(self),
    events,
    pathOf: (conversation) => paths.get(conversation) ?? "relay",
    devices: async () => answered(await ask({ type: "devices" })).devices,
    thisDevice: async () => answered(await ask({ type: "this-device" })).device,
    startDeviceLink: async () => answered(await ask({ type: "start-device-link" })).offer,
    removeDevice: async (deviceId) => void answered(await ask({ type: "remove-device", deviceId })),
    profiles: async () => new Map(answered(await ask({ type: "profiles" })).profiles),
    nicknames: async () => new Map(answered(await ask({ type: "nicknames" })).nicknames),
    setNickname: async (address, nickname) => answered(await ask({ type: "set-nickname", address, nickname: nickname ?? "" })).nickname,
    safetyNumber: async (address) => answered(await ask({ type: "safety-number", address })).number,
    conversations: async () => answered(await ask({ type: "summaries" })).summaries,
    friends: async () => answered(await ask({ type: "friend-records" })).friends,
    history: async (chat, page = {}) => answered(await ask({ type: "messages", chat, ...page })).messages,
    chatRetention: async (chat) => {
      const { retention } = answered(await ask({ type: "chat-retention", chat }));
      return retention === "account" ? undefined : retention;
    },
    setChatRetention: async (chat, days) => void answered(await ask({ type: "set-chat-retention", chat, retention: days === undefined ? "account" : days })),
    sendText: async (chat, text, { replyTo } = {}) => answered(await ask({ type: "send-text", chat, text, ...(replyTo === undefined ? {} : { replyTo }) })).record,
    editMessage: async (id, text) => answered(await ask({ type: "edit", id, text })).record,
    react: async (id, emoji, op = "add") => answered(await ask({ type: "react", id, emoji, op })).record,
    deleteForEveryone: async (id) => answered(await ask({ type: "delete-message", id })).record,
    canRetry: async (id) => answered(await ask({ type: "can-retry", id })).retry,
    retryMessage: async (id) => answered(await ask({ type: "retry-message", id })).record,
    deleteFailed: async (id) => void answered(await ask({ type: "delete-failed", id })),
    setTyping: async (chat, typing) => void answered(await ask({ type: "typing", chat, typing })),
    markRead: async (chat) => void answered(await ask({ type: "mark-read", chat })),
    search: async (query, options = {}) => answered(await ask({ type: "search", query, ...options })).messages,
    uploads: async () => answered(await ask({ type: "uploads" })).uploads,
    cancelUpload: async (id) => void answered(await ask({ type: "cancel-upload", id })),
    sendFile: async (target, source, media = {}, options) => {
      // The picked File (or recorded Blob) itself crosses: the background reads it in pieces.
      if (!(source.picked instanceof Blob)) throw new EmsgError("bad_request", t("ext.fileUnreadable"));
      const request: FileRequest = { kind: "upload", target, name: source.name, mediaType: source.mediaType, file: source.picked, media };
      const answer = await transfer(request, options);
      if (!("sent" in answer)) throw new EmsgError("internal", "EMSG could not do that; try again.");
      return answer.sent;
    },
    downloadAttachment: async (id, options) => {
      const answer = await transfer({ kind: "download", id }, options);
      if (!("bytes" in answer)) throw new EmsgError("internal", "EMSG could not do that; try again.");
      return new Uint8Array(answer.bytes);
    },
  };
}
