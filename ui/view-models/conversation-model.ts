import type { Address } from "../../shared/address.js";
import type { AppContext } from "./app-context.js";
import type { ConversationSummary, MessagePath, MessageRecord } from "./core-types.js";
import { errorSentence } from "./error-text.js";
import { type PathView, pathView } from "./message-path.js";
import { Observable } from "./observable.js";
import type { GroupLabels } from "./sender-label.js";
import { buildTimeline, type DeliveryStatus, type TimelineItem, type TimelineMessage } from "./timeline.js";

export const PAGE_SIZE = 50;

/** Maps the core's status to what the person sees; a message still queued while offline says so. */
export function deliveryOf(message: MessageRecord, offline: boolean): DeliveryStatus | null {
  if (message.direction === "in" || message.status === "received") return null;
  if (message.status === "sending") return offline ? "queued" : "sending";
  return message.status;
}

/**
 * One open conversation: its loaded window of history, stars, retention and the composer's target.
 * A chat with a friend may start before its conversation exists: then it is addressed by the
 * friend's address until the core makes the conversation on the first send.
 */
export class ConversationViewModel extends Observable {
  conversation: string | null;
  readonly peer: Address | null;
  readonly title: string;
  readonly #ctx: AppContext;
  readonly #messages = new Map<string, MessageRecord>();
  readonly #starred = new Set<string>();
  readonly #unsubscribe: (() => void)[] = [];
  #items: TimelineItem[] | null = null;
  /** False until the first page of history is read, so an empty chat is not claimed too early. */
  loaded = false;
  hasOlder = false;
  loadingOlder = false;
  canSend = true;
  /** The peer moved (PROTOCOL §11): this chat stays readable, new messages go to them there. */
  movedTo: Address | null = null;
  verified = false;
  keyChanged = false;
  /** Why the core stopped this conversation (someone in it is not who they claim, PROTOCOL §8): nothing is read or sent there. */
  unsafe: string | null = null;
  retentionOverride: number | null | undefined = undefined;
  error: string | null = null;
  /** In a group chat: how its timeline names senders and events (set by the chat list). */
  senders: GroupLabels | null = null;
  /** How messages travel now (PROTOCOL §10), as the core reports it. */
  path: MessagePath;

  constructor(ctx: AppContext, conversation: string | null, peer: Address | null, title: string) {
    super();
    this.#ctx = ctx;
    this.conversation = conversation;
    this.peer = peer;
    this.title = title;
    const take = (message: MessageRecord) => {
      if (!this.#holds(message.conversation)) return;
      this.#messages.set(message.id, message);
      this.#invalidate();
    };
    this.#unsubscribe.push(ctx.client.events.on("message", take), ctx.client.events.on("status", take));
    this.path = conversation ? ctx.client.pathOf(conversation) : "relay";
    this.#unsubscribe.push(ctx.client.events.on("path", ({ conversation: which, path }) => {
      if (which !== this.conversation) return;
      this.path = path;
      this.changed();
    }));
  }

  get pathView(): PathView {
    return pathView(this.path, this.conversation, this.#ctx.t);
  }

  /** What the core is asked about: the conversation once it exists, else the friend's address. */
  get target(): string {
    return this.conversation ?? this.peer!;
  }

  #holds(conversation: string): boolean {
    return conversation === this.conversation || (this.peer !== null && conversation === `@${this.peer}`);
  }

  /** The core made (or announced) the conversation with our peer: address it by id from now on. */
  adopt(summary: ConversationSummary): void {
    if (this.conversation === null && this.peer !== null && summary.peer === this.peer && !summary.unsafe) this.conversation = summary.conversation;
  }

  get initial(): string {
    return (this.title.match(/[\p{L}\p{N}]/u)?.[0] ?? "#").toUpperCase();
  }

  async load(): Promise<void> {
    const page = await this.#ctx.client.history(this.target, { limit: PAGE_SIZE });
    for (const message of page) this.#messages.set(message.id, message);
    this.hasOlder = page.length === PAGE_SIZE;
    this.unsafe = (await this.#ctx.client.conversations()).find((c) => c.conversation === this.conversation)?.unsafe ?? null;
    if (this.unsafe !== null) this.canSend = false;
    for (const favorite of await this.#ctx.records.favorites()) if (this.#holds(favorite.conversation) || favorite.peer === this.peer) this.#starred.add(favorite.id);
    this.retentionOverride = await this.#ctx.client.chatRetention(this.target);
    await this.refreshTrust();
    this.loaded = true;
    this.#invalidate();
  }

  /** Friendship, verification and key-change state of the peer, re-read when friends change. */
  async refreshTrust(): Promise<void> {
    if (!this.peer) return;
    const friend = (await this.#ctx.client.friends()).find((f) => f.address === this.peer);
    this.movedTo = friend?.movedTo ?? null;
    this.canSend = friend?.state === "friend" && this.movedTo === null && this.unsafe === null;
    const memory = await this.#ctx.records.keyMemory(this.peer);
    this.verified = memory?.verified === true && memory.key === friend?.accountKey;
    this.keyChanged = memory !== undefined && !!friend?.accountKey && memory.key !== friend.accountKey;
    this.changed();
  }

  async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.hasOlder) return;
    this.loadingOlder = true;
    this.changed();
    // The oldest shown, by time then id, as history orders them.
    const oldest = [...this.#messages.values()].reduce<MessageRecord | undefined>((a, b) => (!a || b.at < a.at || (b.at === a.at && b.id < a.id) ? b : a), undefined);
    const page = await this.#ctx.client.history(this.target, oldest ? { before: oldest.at, beforeId: oldest.id, limit: PAGE_SIZE } : { limit: PAGE_SIZE });
    for (const message of page) this.#messages.set(message.id, message);
    this.hasOlder = page.length === PAGE_SIZE;
    this.loadingOlder = false;
    this.#invalidate();
  }

  get items(): TimelineItem[] {
    // Messages that arrive while history loads wait for it: no half-filled timeline flashes by.
    if (!this.loaded) return [];
    if (!this.#items) {
      const offline = this.#ctx.link === "offline";
      const messages: TimelineMessage[] = [...this.#messages.values()].map((m) => ({
        id: m.id,
        mine: m.direction === "out",
        text: m.text,
        at: m.at,
        status: deliveryOf(m, offline),
        starred: this.#starred.has(m.id),
        from: m.from,
        notice: m.notice,
      }));
      this.#items = buildTimeline(messages, this.#ctx.now(), this.#ctx.locale, this.#ctx.t, this.senders ?? undefined);
    }
    return this.#items;
  }

  async send(text: string): Promise<void> {
    try {
      this.error = null;
      const message = await this.#ctx.client.sendText(this.target, text);
      this.#messages.set(message.id, message);
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.#invalidate();
  }

  async toggleStar(id: string): Promise<void> {
    const message = this.#messages.get(id);
    if (!message) return;
    if (this.#starred.delete(id)) {
      await this.#ctx.records.unstar(id);
    } else {
      this.#starred.add(id);
      await this.#ctx.records.star({
        id,
        conversation: message.conversation,
        peer: this.peer ?? this.title,
        from: message.from,
        mine: message.direction === "out",
        text: message.text,
        at: message.at,
        starredAt: this.#ctx.now(),
      });
    }
    this.#ctx.favoritesChanged();
    this.#invalidate();
  }

  /** Called by the favorites view when a star is removed there. */
  unstarred(id: string): void {
    if (this.#starred.delete(id)) this.#invalidate();
  }

  markRead(): void {
    if (this.conversation) void this.#ctx.client.markRead(this.conversation);
  }

  async setRetention(days: number | null | undefined): Promise<void> {
    this.retentionOverride = days;
    await this.#ctx.client.setChatRetention(this.target, days);
    this.changed();
    await this.#ctx.runExpiry();
  }

  /** Drops messages the expiry pass deleted from the store. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.#messages.delete(id);
    this.#invalidate();
  }

  refresh(): void {
    this.#invalidate();
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
  }

  #invalidate(): void {
    this.#items = null;
    this.changed();
  }
}
