import type { Address } from "../../../shared/address.js";
import type { ConversationSummary } from "./core-types.js";
import type { AppContext } from "./app-context.js";
import { chatRows, type ChatRow, type ChatSummary } from "./chat-list.js";
import { ConversationViewModel } from "./conversation-model.js";
import { Observable } from "./observable.js";

export function chatSummary(c: ConversationSummary, self: Address): ChatSummary {
  return {
    id: c.conversation,
    title: c.peer ?? c.members.filter((m) => m !== self).join(", "),
    lastText: c.last?.text ?? null,
    lastAt: c.last?.at ?? null,
    lastMine: c.last?.direction === "out",
    unread: c.unread,
  };
}

/** The chat list and the one conversation open beside it. */
export class ChatsViewModel extends Observable {
  readonly #ctx: AppContext;
  #summaries = new Map<string, ConversationSummary>();
  conversation: ConversationViewModel | null = null;

  constructor(ctx: AppContext) {
    super();
    this.#ctx = ctx;
    ctx.client.events.on("conversation", (summary) => {
      this.#summaries.set(summary.conversation, summary);
      this.conversation?.adopt(summary);
      this.changed();
    });
  }

  async load(): Promise<void> {
    this.#summaries = new Map((await this.#ctx.client.conversations()).map((s) => [s.conversation, s]));
    this.changed();
  }

  get #selected(): string | null {
    return this.conversation?.conversation ?? null;
  }

  get rows(): ChatRow[] {
    const summaries = [...this.#summaries.values()].map((c) => chatSummary(c, this.#ctx.client.address));
    return chatRows(summaries, this.#selected, this.#ctx.now(), this.#ctx.locale, this.#ctx.t);
  }

  get unreadTotal(): number {
    let total = 0;
    for (const summary of this.#summaries.values()) if (summary.conversation !== this.#selected) total += summary.unread;
    return total;
  }

  /** Opens a conversation by its id, or the chat with a friend by address (made on the first send). */
  open(target: string): void {
    const summary = this.#summaries.get(target) ?? [...this.#summaries.values()].find((s) => s.peer === target);
    const conversation = summary?.conversation ?? null;
    if (this.conversation && (this.conversation.conversation ?? this.conversation.peer) === (conversation ?? target)) return;
    this.conversation?.dispose();
    const peer = (summary?.peer ?? (conversation ? null : target)) as Address | null;
    const title = summary ? chatSummary(summary, this.#ctx.client.address).title : target;
    this.conversation = new ConversationViewModel(this.#ctx, conversation, peer, title);
    this.conversation.subscribe(() => this.changed());
    void this.conversation.load();
    this.changed();
  }

  close(): void {
    this.conversation?.dispose();
    this.conversation = null;
    this.changed();
  }

  /** Re-renders time stamps and labels after a language or connection change. */
  refresh(): void {
    this.conversation?.refresh();
    this.changed();
  }
}
