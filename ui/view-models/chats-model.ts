import { chatOfMoved } from "../../shared/client/moved-history.js";
import type { Address } from "../../shared/address.js";
import type { ConversationSummary, MessageRecord } from "./core-types.js";
import type { ChatContext } from "./chat-context.js";
import { chatRows, chatSummary, type ChatRow } from "./chat-list.js";
import { ConversationViewModel } from "./conversation-model.js";
import { type FriendChats, friendChats } from "./friend-chats.js";
import { GroupViewModel } from "./group-model.js";
import { logFailure } from "./log-failure.js";
import { NewGroupViewModel } from "./new-group-model.js";
import { Observable } from "./observable.js";
import { PeopleNames } from "./people-names.js";
import { listStamp } from "./time-format.js";

/** A message search found, with the chat it is in. */
export interface SearchHit {
  id: string;
  /** What `open` takes: the conversation, or the friend's address for a first message not sent yet. */
  chat: string;
  title: string;
  text: string;
  mine: boolean;
  stamp: string;
}

/** The chat list and the one conversation open beside it. */
export class ChatsViewModel extends Observable {
  readonly #ctx: ChatContext;
  #summaries = new Map<string, ConversationSummary>();
  /** friendChats of #summaries, made again after they change: a catch-up asks it for each message. */
  #chats: FriendChats | undefined;
  /** Summaries told while `load` reads the listing, which would otherwise overwrite them. */
  readonly #arrivedWhileLoading = new Set<ConversationSummary[]>();
  conversation: ConversationViewModel | null = null;
  /** The open conversation's group state, when it is a group. */
  group: GroupViewModel | null = null;
  /** The "New group" dialog, while it is open. */
  newGroup: NewGroupViewModel | null = null;
  /** Message search over this device's store: shown instead of the list while there is a query. */
  searchQuery = "";
  searchHits: SearchHit[] = [];
  #searchRun = 0;
  /** Chats kept on top, and chats kept quiet, on this device. */
  #pinned = new Set<string>();
  #muted = new Set<string>();
  /** The open chat, when its history could not be read. */
  #failedToLoad: ConversationViewModel | null = null;
  /** Everyone's display name and avatar, as the chat list, header and groups show them. */
  readonly people: PeopleNames;

  constructor(ctx: ChatContext) {
    super();
    this.#ctx = ctx;
    this.people = new PeopleNames(ctx.client);
    this.people.subscribe(() => {
      this.group?.setNames(this.people.resolve);
      this.changed();
    });
    ctx.client.events.on("conversation", (summary) => {
      for (const arrived of this.#arrivedWhileLoading) arrived.push(summary);
      this.#take(summary);
      this.people.addPeople(summary.members);
      this.conversation?.adopt(summary);
      const open = this.conversation?.conversation;
      if (open) this.conversation!.showing(this.#friendChats().shownIn(open));
      if (this.group?.conversation === summary.conversation) this.group.update(summary);
      // The open chat whose history could not be read is read anew once it changes.
      const failed = this.#failedToLoad;
      if (failed && failed === this.conversation && summary.conversation === failed.conversation) this.open(summary.conversation);
      this.changed();
    });
    ctx.client.events.on("message", (message) => {
      if (this.group?.conversation === message.conversation) this.group.noticed(message);
    });
    // A chat whose first messages wait for its conversation (`@FRIEND`) has no record that tells the
    // list its last line failed, or goes again on Retry: the message's own status does.
    ctx.client.events.on("status", (message) => {
      const summary = this.#summaries.get(message.conversation);
      if (summary?.last?.id !== message.id || summary.last.status === message.status) return;
      this.#summaries.set(message.conversation, { ...summary, last: { ...summary.last, status: message.status } });
      this.#chats = undefined;
      this.changed();
    });
  }

  /** The chat with a friend listed before its conversation existed (history moved in) is this one now. */
  #take(summary: ConversationSummary): void {
    this.#chats = undefined;
    if (summary.peer && summary.kind !== "group") this.#summaries.delete(`@${summary.peer}`);
    // A chat waiting for its conversation with no message left is no chat any more (the core no longer lists it).
    if (summary.conversation.startsWith("@") && !summary.last) return;
    this.#summaries.set(summary.conversation, summary);
  }

  async load(): Promise<void> {
    // A summary told while the listing was read is as new as the listing, or newer: it stays.
    const arrived: ConversationSummary[] = [];
    this.#arrivedWhileLoading.add(arrived);
    try {
      this.#summaries = new Map((await this.#ctx.client.conversations()).map((s) => [s.conversation, s]));
      this.#chats = undefined;
    } finally {
      this.#arrivedWhileLoading.delete(arrived);
    }
    for (const summary of arrived) this.#take(summary);
    this.#pinned = await this.#ctx.records.marked("pinned");
    this.#muted = await this.#ctx.records.marked("muted");
    for (const summary of this.#summaries.values()) this.people.addPeople(summary.members);
    await this.people.load();
    this.changed();
  }

  isPinned(chat: string): boolean {
    return this.#pinned.has(chat);
  }

  /** Whether a conversation's messages stay quiet (no notification). */
  isMuted(chat: string): boolean {
    return this.#muted.has(chat);
  }

  async togglePinned(chat: string): Promise<void> {
    await this.#toggle("pinned", this.#pinned, chat);
  }

  async toggleMuted(chat: string): Promise<void> {
    await this.#toggle("muted", this.#muted, chat);
  }

  async #toggle(mark: "pinned" | "muted", set: Set<string>, chat: string): Promise<void> {
    const on = !set.has(chat);
    // Shown once kept, so a reload right after the click never loses it.
    await this.#ctx.records.setMarked(mark, chat, on);
    if (on) set.add(chat);
    else set.delete(chat);
    this.changed();
  }

  /** Searches messages as the person types; only the answer to the latest query is shown. */
  async search(query: string): Promise<void> {
    this.searchQuery = query;
    const run = ++this.#searchRun;
    this.changed();
    const found = query.trim() === "" ? [] : await this.#ctx.client.search(query, { limit: 50 });
    if (run !== this.#searchRun) return;
    const self = this.#ctx.client.address;
    const chats = this.#friendChats();
    this.searchHits = found.map((m) => {
      // Moved-in words are kept apart (`moved:CHAT`): their chat is the friend's or the group's.
      const kept = chatOfMoved(m.conversation) ?? m.conversation;
      const summary = this.#summaries.get(chats.chatOf(kept)) ?? this.#summaries.get(`@${kept}`);
      const chat = summary ? summary.conversation : kept.replace(/^@/, "");
      return {
        id: m.id,
        chat,
        title: summary ? chatSummary(summary, self, this.people).title : chat,
        text: m.text,
        mine: m.direction === "out",
        stamp: listStamp(m.at, this.#ctx.now(), this.#ctx.locale, this.#ctx.t),
      };
    });
    this.changed();
  }

  get #selected(): string | null {
    const open = this.conversation;
    // A chat whose first messages wait for its conversation is the friend's row, `@FRIEND`.
    return open ? (open.conversation ?? (open.peer ? `@${open.peer}` : null)) : null;
  }

  get rows(): ChatRow[] {
    const summaries = this.#friendChats().chats.map((c) => chatSummary(c, this.#ctx.client.address, this.people));
    return chatRows(summaries, this.#selected, this.#ctx.now(), this.#ctx.locale, this.#ctx.t, { pinned: this.#pinned, muted: this.#muted });
  }

  /** Unread messages outside the open chat and muted chats: the count the title and the Chats tab show. */
  get unreadTotal(): number {
    let total = 0;
    for (const summary of this.#friendChats().chats) {
      if (summary.conversation !== this.#selected && !this.#muted.has(summary.conversation)) total += summary.unread;
    }
    return total;
  }

  #friendChats(): FriendChats {
    return (this.#chats ??= friendChats(this.#summaries.values()));
  }

  /** The chat a conversation is shown in: its own, or the friend's chat it is one of (see friendChats). */
  chatOf(conversation: string): string {
    return this.#friendChats().chatOf(conversation);
  }

  /** A listed conversation's summary (its members and name), for a message's notification. */
  summary(conversation: string): ConversationSummary | undefined {
    return this.#summaries.get(conversation);
  }

  /** Opens a conversation by its id, or the chat with a friend by address (made on the first send). */
  open(target: string): void {
    const chats = this.#friendChats();
    // A conversation refused as unsafe (an impostor's, say) is never the chat with a friend's address.
    const summary = this.#summaries.get(chats.chatOf(target)) ?? [...this.#summaries.values()].find((s) => s.peer === target && !s.unsafe);
    // `@FRIEND`: a chat with history but no conversation yet, opened as the chat with that friend.
    const conversation = summary && !summary.conversation.startsWith("@") ? summary.conversation : null;
    // Opened again after its history could not be read: read anew.
    if (this.conversation && (this.conversation.conversation ?? this.conversation.peer) === (conversation ?? target) && this.conversation !== this.#failedToLoad) return;
    this.conversation?.dispose();
    const peer = (summary?.peer ?? (conversation ? null : target)) as Address | null;
    const title = summary ? chatSummary(summary, this.#ctx.client.address).title : target;
    const unread = chats.chats.find((c) => c.conversation === summary?.conversation)?.unread ?? 0;
    this.conversation = new ConversationViewModel(this.#ctx, conversation, peer, title, unread);
    if (conversation) this.conversation.showing(chats.shownIn(conversation));
    this.conversation.subscribe(() => this.changed());
    this.group = summary?.kind === "group" ? this.#openGroup(summary, this.conversation) : null;
    const opened = this.conversation;
    void opened.load().catch((error: unknown) => {
      this.#failedToLoad = opened;
      logFailure("the chat is empty until it changes or is opened again")(error);
    });
    this.changed();
  }

  /** The group beside its timeline: the timeline names senders the way the group's roster does. */
  #openGroup(summary: ConversationSummary, conversation: ConversationViewModel): GroupViewModel {
    const group = new GroupViewModel(this.#ctx.client, summary, this.people.resolve);
    conversation.senders = group.labels;
    group.subscribe(() => {
      if (conversation.senders !== group.labels) {
        conversation.senders = group.labels;
        conversation.refresh();
      }
      this.changed();
    });
    void group.load().catch(logFailure("past senders are told apart once the group is opened again"));
    return group;
  }

  close(): void {
    this.conversation?.dispose();
    this.conversation = null;
    this.group = null;
    this.changed();
  }

  startNewGroup(): void {
    this.newGroup = new NewGroupViewModel(this.#ctx.client, (address) => this.people.resolve(address));
    this.newGroup.subscribe(() => this.changed());
    void this.newGroup.load();
    this.changed();
  }

  closeNewGroup(): void {
    this.newGroup = null;
    this.changed();
  }

  /** Creates the group the dialog describes and opens it. */
  async createGroup(): Promise<void> {
    const summary = await this.newGroup?.create();
    if (!summary) return;
    this.#summaries.set(summary.conversation, summary);
    this.#chats = undefined;
    this.newGroup = null;
    this.open(summary.conversation);
  }

  /** Re-renders time stamps and labels after a language or connection change. */
  refresh(): void {
    this.conversation?.refresh();
    this.changed();
  }
}
