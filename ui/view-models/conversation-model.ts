import type { Address } from "../../shared/address.js";
import { chatOfMoved } from "../../shared/client/moved-history.js";
import { uploaded } from "../../shared/client/messages.js";
import type { ChatContext } from "./chat-context.js";
import type { ConversationSummary, MessagePath, MessageRecord } from "./core-types.js";
import { errorSentence, sendFailureText } from "./error-text.js";
import { logFailure } from "./log-failure.js";
import { type PathView, pathView } from "./message-path.js";
import { Observable } from "./observable.js";
import type { GroupLabels } from "./sender-label.js";
import { AttachmentsViewModel } from "./attachment-model.js";
import type { LinkState } from "./connectivity.js";
import { buildTimeline, type DeliveryStatus, type SendFailure, type TimelineItem, type TimelineMessage, type TimelineQuote, type TimelineReaction, type UnreadStart } from "./timeline.js";

/** How long "typing…" stays without news from the typist (PROTOCOL §8.1). */
export const TYPING_SHOWN_MS = 6000;

export const PAGE_SIZE = 50;
/** Pages of older history read at most to find a quoted message: 2,500 messages back. */
const QUOTE_PAGES = 50;
/** Pages read at most, as a chat opens, to find its first unread message; past them its line goes above the oldest read. */
const UNREAD_PAGES = 4;

/**
 * Maps the core's status to what the person sees; a message still queued while offline says so,
 * and one queued on a device its account removed will never go: it is not sent.
 */
export function deliveryOf(message: MessageRecord, link: LinkState): DeliveryStatus | null {
  if (message.direction === "in" || message.status === "received") return null;
  if (message.status === "sending") return link === "removed" ? "failed" : link === "offline" ? "queued" : "sending";
  if (message.status === "delivered" && message.read) return "read";
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
  readonly #ctx: ChatContext;
  readonly #messages = new Map<string, MessageRecord>();
  readonly #starred = new Set<string>();
  readonly #unsubscribe: (() => void)[] = [];
  #items: TimelineItem[] | null = null;
  /** False until the first page of history is read, so an empty chat is not claimed too early. */
  loaded = false;
  hasOlder = false;
  loadingOlder = false;
  canSend = true;

  /** This device was removed from its account: nothing is sent from it, so no composer is offered. */
  get removed(): boolean {
    return this.#ctx.link === "removed";
  }

  /** The peer moved (PROTOCOL §11): this chat stays readable, new messages go to them there. */
  movedTo: Address | null = null;
  verified = false;
  keyChanged = false;
  /** Why the core stopped this conversation (someone in it is not who they claim, PROTOCOL §8): nothing is read or sent there. */
  unsafe: string | null = null;
  /** This device fell out of step and asked to be let back in (PROTOCOL §8, Rejoining): `unsafe` says why, until it is. */
  rejoining = false;
  retentionOverride: number | null | undefined = undefined;
  error: string | null = null;
  /** In a group chat: how its timeline names senders and events (set by the chat list). */
  senders: GroupLabels | null = null;
  /** How messages travel now (PROTOCOL §10), as the core reports it. */
  path: MessagePath;
  /** What is typed in the composer and not sent; kept on the device, so switching chats or reloading keeps it. */
  draft = "";
  /** The message the composer answers, or edits (then `draft` holds its new words). */
  replyingTo: string | null = null;
  editing: string | null = null;
  /** Who is typing now, by address, with the timer that forgets them. */
  readonly #typing = new Map<Address, ReturnType<typeof setTimeout>>();
  #draftKey: string;
  /** The composer changed since the chat opened: the draft kept for it is not read back over it. */
  #draftTouched = false;
  /** The message a tapped quote named, brought into view and marked; `seq` counts taps, so the same one is shown again. */
  shownMessage: { id: string; seq: number } | null = null;
  /** Messages that came while the person was not at the newest one (reading further up, or the page hidden), for the jump button. */
  newBelow = 0;
  /** Where what was unread when the chat opened begins: the view opens there, under its line. */
  unreadStart: UnreadStart | null = null;
  readonly #unreadAtOpen: number;
  /** The person sees the newest message: the view says so. Only then is the chat marked read. */
  #seeingNewest = false;
  /** Its files: sending, fetching, and the fetched ones to show. */
  readonly files: AttachmentsViewModel;
  /** The friend's other 1:1s this chat shows with its own (see friendChats). */
  #alsoShown = new Set<string>();
  /** Whether the core can send each failed message of ours again, as it answered; asked again when its status changes. */
  readonly #retryable = new Map<string, { can: boolean | null }>();

  /** `unread`: how many of its messages the chat list counted unread as it opened. */
  constructor(ctx: ChatContext, conversation: string | null, peer: Address | null, title: string, unread = 0) {
    super();
    this.#ctx = ctx;
    this.#unreadAtOpen = unread;
    this.conversation = conversation;
    this.peer = peer;
    this.title = title;
    this.files = new AttachmentsViewModel(ctx, () => this.target, (conversation) => this.#holds(conversation));
    const take = (message: MessageRecord) => {
      if (!this.#holds(message.conversation)) return;
      this.#retryable.delete(message.id);
      if (this.loaded && !this.#seeingNewest && message.direction === "in" && !message.notice && !this.#messages.has(message.id)) this.newBelow++;
      this.#messages.set(message.id, message);
      this.#invalidate();
      // Someone in the chat set its timer: the header shows the chat's new one.
      if (message.notice?.type === "timer") void this.#reloadRetention();
    };
    this.#unsubscribe.push(ctx.client.events.on("message", take), ctx.client.events.on("status", take));
    this.#draftKey = peer ?? conversation ?? "";
    this.#unsubscribe.push(ctx.client.events.on("typing", ({ conversation: which, from, typing }) => {
      if (this.#holds(which)) this.#setTyping(from, typing);
    }));
    this.path = conversation ? ctx.client.pathOf(conversation) : "relay";
    this.#unsubscribe.push(ctx.client.events.on("path", ({ conversation: which, path }) => {
      if (!this.#holds(which)) return;
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
    return conversation === this.conversation || this.#alsoShown.has(conversation) || (this.peer !== null && conversation === `@${this.peer}`);
  }

  /**
   * The conversations this chat shows (itself first): a friend's 1:1s made at once by both sides
   * are one chat. One that joins it while the chat is open brings its history in.
   */
  showing(conversations: readonly string[]): void {
    const also = conversations.filter((c) => c !== this.conversation);
    const added = also.some((c) => !this.#alsoShown.has(c));
    this.#alsoShown = new Set(also);
    if (added && this.loaded) void this.#readNewest().catch(logFailure("the chat shows its earlier messages when opened again"));
  }

  async #readNewest(): Promise<void> {
    for (const message of await this.#ctx.client.history(this.target, { limit: PAGE_SIZE })) this.#messages.set(message.id, message);
    this.#invalidate();
  }

  /** The core made (or announced) the conversation with our peer: address it by id from now on. */
  adopt(summary: ConversationSummary): void {
    // `@FRIEND` (listed while the first messages wait) is no conversation yet: the friend's address stays the target.
    if (this.conversation === null && this.peer !== null && summary.peer === this.peer && !summary.unsafe && !summary.conversation.startsWith("@")) this.conversation = summary.conversation;
    if (summary.conversation !== this.conversation || !this.loaded) return;
    const was = this.unsafe;
    this.unsafe = summary.unsafe ?? null;
    this.rejoining = summary.rejoin?.stuck === true;
    if (this.unsafe !== null) this.canSend = false;
    // Let back in: the composer comes back, as far as the friendship allows.
    if (was !== null && this.unsafe === null) {
      this.canSend = true;
      void this.refreshTrust();
    }
  }

  get initial(): string {
    return (this.title.match(/[\p{L}\p{N}]/u)?.[0] ?? "#").toUpperCase();
  }

  async load(): Promise<void> {
    const page = await this.#ctx.client.history(this.target, { limit: PAGE_SIZE });
    for (const message of page) this.#messages.set(message.id, message);
    this.hasOlder = page.length === PAGE_SIZE;
    await this.#findUnreadStart();
    const summary = (await this.#ctx.client.conversations()).find((c) => c.conversation === this.conversation);
    this.unsafe = summary?.unsafe ?? null;
    this.rejoining = summary?.rejoin?.stuck === true;
    if (this.unsafe !== null) this.canSend = false;
    for (const favorite of await this.#ctx.records.favorites()) if (this.#holds(favorite.conversation) || favorite.peer === this.peer) this.#starred.add(favorite.id);
    this.retentionOverride = await this.#ctx.client.chatRetention(this.target);
    // What was typed (or sent) since the chat opened is newer than the kept draft: it stays.
    const kept = await this.#ctx.records.draft(this.#draftKey);
    if (!this.#draftTouched) this.draft = kept;
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
    await this.#readOlderPage();
    this.loadingOlder = false;
    this.#invalidate();
  }

  async #readOlderPage(): Promise<void> {
    // The oldest shown, by time then id, as history orders them.
    const oldest = [...this.#messages.values()].reduce<MessageRecord | undefined>((a, b) => (!a || b.at < a.at || (b.at === a.at && b.id < a.id) ? b : a), undefined);
    const page = await this.#ctx.client.history(this.target, oldest ? { before: oldest.at, beforeId: oldest.id, limit: PAGE_SIZE } : { limit: PAGE_SIZE });
    for (const message of page) this.#messages.set(message.id, message);
    this.hasOlder = page.length === PAGE_SIZE;
  }

  /**
   * The first of the messages unread as the chat opened: the core counts the newest received ones
   * (neither notices nor deleted), so it is that many back among them; older pages are read for it.
   */
  async #findUnreadStart(): Promise<void> {
    const count = this.#unreadAtOpen;
    if (count === 0) return;
    const received = () =>
      [...this.#messages.values()].filter((m) => m.direction === "in" && !m.notice && !m.deleted).sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    for (let pages = 0; received().length < count && this.hasOlder && pages < UNREAD_PAGES; pages++) await this.#readOlderPage();
    const first = received().at(-count) ?? received()[0];
    this.unreadStart = first ? { id: first.id, count } : null;
  }

  get items(): TimelineItem[] {
    // Messages that arrive while history loads wait for it: no half-filled timeline flashes by.
    if (!this.loaded) return [];
    if (!this.#items) {
      const messages: TimelineMessage[] = [...this.#messages.values()].map((m) => ({
        id: m.id,
        mine: m.direction === "out",
        text: m.text,
        at: m.at,
        status: deliveryOf(m, this.#ctx.link),
        starred: this.#starred.has(m.id),
        from: m.from,
        notice: m.notice,
        edited: m.editedAt !== undefined,
        moved: chatOfMoved(m.conversation) !== undefined,
        deleted: m.deleted === true,
        ...(m.replyTo === undefined ? {} : { quote: this.quoteOf(m.replyTo) }),
        reactions: this.#reactionsOf(m),
        ...(m.attachment ? { attachment: m.attachment } : {}),
        ...(m.direction === "out" && m.status === "failed" ? { failure: this.#failureOf(m) } : {}),
      }));
      this.#items = buildTimeline(messages, this.#ctx.now(), this.#ctx.locale, this.#ctx.t, this.senders ?? undefined, this.unreadStart ?? undefined);
    }
    return this.#items;
  }

  /** Sends `text`, as a reply when one is being written, or saves it as the new words of the message being edited. */
  async send(text: string): Promise<void> {
    const { replyingTo, editing } = this;
    this.replyingTo = null;
    this.editing = null;
    this.setDraft("");
    try {
      this.error = null;
      const message = editing
        ? await this.#ctx.client.editMessage(editing, text)
        : await this.#ctx.client.sendText(this.target, text, replyingTo ? { replyTo: replyingTo } : {});
      this.#messages.set(message.id, message);
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.#invalidate();
  }

  /** The composer's text changed: kept for this chat, and the others told this person is typing. */
  setDraft(text: string): void {
    const was = this.draft;
    this.draft = text;
    this.#draftTouched = true;
    void this.#ctx.records.saveDraft(this.#draftKey, text).catch((error: unknown) => console.warn("emsg: the draft was not kept", error));
    // The core sends "typing" at most every few seconds, and "stopped" once.
    if (this.conversation && (text !== "" || was !== "")) void this.#typingChanged(text !== "");
    this.changed();
  }

  async #typingChanged(typing: boolean): Promise<void> {
    await this.#ctx.client.setTyping(this.target, typing).catch((error: unknown) => console.warn("emsg: typing was not sent", error));
  }

  /** The message `id` as a reply shows it above its text. */
  quoteOf(id: string): TimelineQuote {
    const quoted = this.#messages.get(id);
    if (!quoted) return { id, author: "", text: null };
    const author = quoted.direction === "out" ? this.#ctx.t("conv.you") : this.#nameOf(quoted.from);
    return { id, author, text: quoted.deleted ? this.#ctx.t("conv.deleted") : quoted.text };
  }

  #nameOf(address: Address): string {
    return this.senders?.label(address).name ?? (this.peer === address ? this.title : address);
  }

  #reactionsOf(message: MessageRecord): TimelineReaction[] {
    const self = this.#ctx.client.address;
    const byEmoji = new Map<string, Address[]>();
    for (const r of message.reactions ?? []) if (!r.removed) byEmoji.set(r.emoji, [...(byEmoji.get(r.emoji) ?? []), r.by]);
    return [...byEmoji].map(([emoji, by]) => ({
      emoji,
      count: by.length,
      mine: by.includes(self),
      by: by.map((a) => (a === self ? this.#ctx.t("conv.you") : this.#nameOf(a))).join(", "),
    }));
  }

  startReply(id: string): void {
    this.editing = null;
    this.replyingTo = id;
    this.changed();
  }

  /** Puts one's own message's words in the composer to change them. */
  startEdit(id: string): void {
    const message = this.#messages.get(id);
    if (!message || message.direction !== "out" || message.deleted) return;
    this.replyingTo = null;
    this.editing = id;
    this.draft = message.text;
    this.#draftTouched = true;
    this.changed();
  }

  cancelCompose(): void {
    if (this.editing) this.setDraft("");
    this.replyingTo = null;
    this.editing = null;
    this.changed();
  }

  /** Adds this account's `emoji` to the message, or takes it back when it is there already. */
  async react(id: string, emoji: string): Promise<void> {
    const message = this.#messages.get(id);
    if (!message) return;
    const mine = (message.reactions ?? []).some((r) => r.by === this.#ctx.client.address && r.emoji === emoji && !r.removed);
    await this.#act(() => this.#ctx.client.react(id, emoji, mine ? "remove" : "add"));
  }

  async deleteForEveryone(id: string): Promise<void> {
    await this.#act(() => this.#ctx.client.deleteForEveryone(id));
  }

  #failureOf(message: MessageRecord): SendFailure {
    const unsent = message.attachment !== undefined && !uploaded(message.attachment);
    return { reason: sendFailureText(message.error, this.#ctx.t), retry: this.#canRetry(message.id), unsent };
  }

  /**
   * Whether Retry is offered for a failed message of ours: the core says whether it can still go
   * (its conversation takes what this device writes; a file is on our server or still at hand).
   * Null until it answered.
   */
  #canRetry(id: string): boolean | null {
    const known = this.#retryable.get(id);
    if (known) return known.can;
    const asked: { can: boolean | null } = { can: null };
    this.#retryable.set(id, asked);
    void this.#ctx.client.canRetry(id).then((can) => {
      // A status change meanwhile asks again; this answer is about the message as it was.
      if (this.#retryable.get(id) !== asked) return;
      asked.can = can;
      this.#invalidate();
    }, logFailure("Retry shows when the chat is opened again"));
    return null;
  }

  /** Sends a failed message of ours again: only ever at the person's word. */
  async retry(id: string): Promise<void> {
    await this.#act(() => this.#ctx.client.retryMessage(id));
  }

  /** Deletes a failed message of ours from this device; nobody else has it. */
  async deleteFailed(id: string): Promise<void> {
    try {
      this.error = null;
      await this.#ctx.client.deleteFailed(id);
      this.#messages.delete(id);
      this.#retryable.delete(id);
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.#invalidate();
  }

  async #act(change: () => Promise<MessageRecord>): Promise<void> {
    try {
      this.error = null;
      const message = await change();
      this.#messages.set(message.id, message);
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.#invalidate();
  }

  /** Names of those typing now, for "alice is typing…". */
  get typing(): string[] {
    return [...this.#typing.keys()].map((a) => this.#nameOf(a));
  }

  #setTyping(from: Address, typing: boolean): void {
    clearTimeout(this.#typing.get(from));
    this.#typing.delete(from);
    if (typing) {
      this.#typing.set(from, setTimeout(() => {
        this.#typing.delete(from);
        this.changed();
      }, TYPING_SHOWN_MS));
    }
    this.changed();
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

  /**
   * The view tells whether the newest message is on screen: the timeline at its bottom, on a page
   * that is shown. Arriving there reads what came.
   */
  seeNewest(seeing: boolean): void {
    if (seeing === this.#seeingNewest) return;
    this.#seeingNewest = seeing;
    if (seeing) {
      this.newBelow = 0;
      this.markRead();
    }
    this.changed();
  }

  /** The view opened the chat at its unread line, away from the newest: the jump button counts them all. */
  openedAtUnread(): void {
    this.newBelow = this.unreadStart?.count ?? 0;
    this.seeNewest(false);
    this.changed();
  }

  /**
   * Brings a quoted message into the timeline, reading older pages until it is there (none left:
   * it was deleted or expired here, and nothing is shown). The view then scrolls to it, marked.
   */
  async showMessage(id: string): Promise<void> {
    for (let pages = 0; !this.#messages.has(id) && this.hasOlder && pages < QUOTE_PAGES; pages++) await this.loadOlder();
    if (!this.#messages.has(id)) return;
    this.shownMessage = { id, seq: (this.shownMessage?.seq ?? 0) + 1 };
    this.changed();
  }

  /**
   * Marks the chat read, and sends `read` receipts, only while the person sees its newest message:
   * not before its history is shown, which may open it at its first unread message instead.
   */
  markRead(): void {
    if (this.conversation && this.loaded && this.#seeingNewest) void this.#ctx.client.markRead(this.conversation);
  }

  #retentionAsked = 0;

  /** Two timers set in a row may be answered out of order: only the last question's answer shows. */
  async #reloadRetention(): Promise<void> {
    const asked = ++this.#retentionAsked;
    const days = await this.#ctx.client.chatRetention(this.target);
    if (asked !== this.#retentionAsked) return;
    this.retentionOverride = days;
    this.changed();
  }

  /** Sets the chat's timer for everyone in it; refused (a group left, say), the header goes back to the timer that holds. */
  async setRetention(days: number | null | undefined): Promise<void> {
    // An answer asked before this choice is older than it.
    this.#retentionAsked++;
    this.retentionOverride = days;
    this.error = null;
    try {
      await this.#ctx.client.setChatRetention(this.target, days);
    } catch (error) {
      this.error = errorSentence(error);
      await this.#reloadRetention();
      return;
    }
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
    for (const timer of this.#typing.values()) clearTimeout(timer);
    for (const off of this.#unsubscribe) off();
    this.files.dispose();
  }

  #invalidate(): void {
    this.#items = null;
    this.changed();
  }
}
