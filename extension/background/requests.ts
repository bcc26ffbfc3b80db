import * as v from "valibot";
import { parseAddress } from "../../shared/address.js";
import { EmsgError, ERROR_SENTENCE, isErrorCode } from "../../shared/errors.js";
import { PAGE_REQUESTS, RequestSchema, type Reply, type ReplyOf } from "../messaging/messages.js";
import type { ClientService } from "./client-service.js";

export interface RequestContext {
  service: ClientService;
  /** Opens the side panel (or Firefox sidebar, or a tab) for the tab that asked. */
  openPanel(tabId: number | undefined): Promise<"side-panel" | "sidebar" | "tab">;
}

export interface SenderInfo {
  /** The extension id of the sender; anything else is refused. */
  id?: string;
  /** The document that sent it: one of our own pages, or a web page for a content script. */
  url?: string;
  tab?: { id?: number };
}

export interface Self {
  id: string;
  /** Our pages' origin with a trailing slash, e.g. `chrome-extension://ID/`. */
  origin: string;
}

export function failure(error: unknown): Reply<never> {
  if (error instanceof EmsgError) return { ok: false, error: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) return { ok: false, error: code, message: ERROR_SENTENCE[code] };
  // An unexpected failure is a bug: keep it in the service worker's console for whoever debugs it.
  console.error("emsg: a request failed", error);
  return { ok: false, error: "internal", message: "EMSG could not do that; try again." };
}

/** Whether a message comes from one of the extension's own pages (popup, side panel), not a content script. */
export function fromOwnPage(sender: SenderInfo, self: Self): boolean {
  return sender.id === self.id && sender.url?.startsWith(self.origin) === true;
}

/**
 * Answers one message from a content script, the popup or the side panel. Never throws.
 * Content scripts run inside web pages, so they may only add a friend or open the panel.
 */
export async function handleRequest(raw: unknown, sender: SenderInfo, self: Self, ctx: RequestContext): Promise<ReplyOf[keyof ReplyOf]> {
  if (sender.id !== self.id) return { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." };
  const parsed = v.safeParse(RequestSchema, raw);
  if (!parsed.success) return { ok: false, error: "bad_request", message: "That request was not understood." };
  const request = parsed.output;
  const ownPage = fromOwnPage(sender, self);
  if (!ownPage && !PAGE_REQUESTS.has(request.type)) return { ok: false, error: "forbidden", message: "A web page may not ask EMSG for that." };
  const { service } = ctx;
  try {
    switch (request.type) {
      case "add-friend": {
        const { address } = parseAddress(request.address);
        const { state, unreachable } = await service.addFriend(address);
        // A page must not learn whether someone is already a friend or blocked, nor probe servers.
        if (!ownPage) return { ok: true, address, state: state === "queued" ? state : "outgoing" };
        return { ok: true, address, state, ...(unreachable ? { unreachable: true as const } : {}) };
      }
      case "open-panel":
        return { ok: true, opened: await ctx.openPanel(sender.tab?.id) };
      case "status":
        return { ok: true, account: await service.account(), connection: service.connection(), friends: await service.friends() };
      case "register":
        return { ok: true, account: await service.register(request.address, request.server) };
      case "link":
        return { ok: true, account: await service.linkDevice(request.code, request.server) };
      case "respond":
        return { ok: true, friend: await service.respond(request.address, request.verdict) };
      case "withdraw-friend":
        await (await service.core()).withdrawFriendRequest(request.address);
        return { ok: true, done: true };
      case "group":
        return { ok: true, group: await service.group(request.conversation) };
      case "create-group":
        return { ok: true, group: await service.createGroup(request.title, request.members) };
      case "rename-group":
        return { ok: true, done: await service.changeGroup((c) => c.renameGroup(request.conversation, request.title)) };
      case "add-to-group":
        return { ok: true, done: await service.changeGroup((c) => c.addToGroup(request.conversation, request.members)) };
      case "remove-from-group":
        return { ok: true, done: await service.changeGroup((c) => c.removeFromGroup(request.conversation, request.members)) };
      case "leave-group":
        return { ok: true, done: await service.changeGroup((c) => c.leaveGroup(request.conversation)) };
      case "sync":
        return { ok: true, synced: await service.sync() };
      case "forget-device":
        await service.forgetRemoved();
        return { ok: true, done: true };
      case "settings":
        return { ok: true, settings: await service.settings() };
      case "chat-retention":
        return { ok: true, ...(await service.chatRetention(request.chat)) };
      case "set-chat-retention":
        return { ok: true, ...(await service.setChatRetention(request.chat, request.retention)) };
      case "summaries":
        return { ok: true, summaries: await (await service.core()).conversations() };
      case "friend-records":
        return { ok: true, friends: await (await service.core()).friends() };
      case "messages": {
        const { chat, type: _type, ...page } = request;
        return { ok: true, messages: await (await service.core()).history(chat, page) };
      }
      case "send-text":
        return { ok: true, record: await (await service.core()).sendText(request.chat, request.text, request.replyTo === undefined ? {} : { replyTo: request.replyTo }) };
      case "edit":
        return { ok: true, record: await (await service.core()).editMessage(request.id, request.text) };
      case "react":
        return { ok: true, record: await (await service.core()).react(request.id, request.emoji, request.op) };
      case "delete-message":
        return { ok: true, record: await (await service.core()).deleteForEveryone(request.id) };
      case "can-retry":
        return { ok: true, retry: await (await service.core()).canRetry(request.id) };
      case "retry-message":
        return { ok: true, record: await (await service.core()).retryMessage(request.id) };
      case "delete-failed":
        await (await service.core()).deleteFailed(request.id);
        return { ok: true, done: true };
      case "typing":
        await (await service.core()).setTyping(request.chat, request.typing);
        return { ok: true, done: true };
      case "mark-read":
        await (await service.core()).markRead(request.chat);
        return { ok: true, done: true };
      case "search": {
        const { query, type: _type, ...options } = request;
        return { ok: true, messages: await (await service.core()).search(query, options) };
      }
      case "marks-changed":
        service.marksChanged();
        return { ok: true, done: true };
      case "expire":
        return { ok: true, removed: await service.expire() };
      case "uploads":
        return { ok: true, uploads: await (await service.core()).uploads() };
      case "cancel-upload":
        await (await service.core()).cancelUpload(request.id);
        return { ok: true, done: true };
      case "profiles":
        return { ok: true, profiles: [...(await (await service.core()).profiles())] };
      case "safety-number":
        return { ok: true, number: await (await service.core()).safetyNumber(request.address) };
      case "account-key":
        return { ok: true, accountKey: await service.accountKey() };
      case "nicknames":
        return { ok: true, nicknames: [...(await (await service.core()).nicknames())] };
      case "set-nickname":
        return { ok: true, nickname: await (await service.core()).setNickname(request.address, request.nickname) };
      case "profile":
        return { ok: true, profile: (await (await service.core()).profile()) ?? null };
      case "set-profile":
        return { ok: true, profile: await (await service.core()).setProfile(request.name, request.avatar) };
      case "devices":
        return { ok: true, devices: await (await service.core()).devices() };
      case "this-device":
        return { ok: true, device: (await service.core()).thisDevice() };
      case "start-device-link":
        return { ok: true, offer: await (await service.core()).startDeviceLink() };
      case "remove-device":
        await (await service.core()).removeDevice(request.deviceId);
        return { ok: true, done: true };
      case "delete-account":
        await service.deleteAccount();
        return { ok: true, done: true };
      case "set-settings": {
        const { type: _type, ...change } = request;
        return { ok: true, settings: await service.setSettings(change) };
      }
    }
  } catch (error) {
    return failure(error);
  }
}
