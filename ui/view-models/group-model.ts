import type { Address } from "../../shared/address.js";
import type { Translate } from "../i18n/translate.js";
import type { MessageKey } from "../i18n/en.js";
import { membersLabel } from "./chat-list.js";
import type { ConversationSummary, EmsgClient, MessageRecord } from "./core-types.js";
import { FriendPicker, type PickableFriend, pickable } from "./friend-picker.js";
import { groupTitleProblem } from "./new-group-model.js";
import { ActionModel } from "./action-model.js";
import { type GroupLabels, type SenderLabel, senderLabels } from "./sender-label.js";
import type { PersonName } from "../../shared/client/display-names.js";

/** The core, or anything that asks it (the extension's panel asks its background). */
export type GroupClient = Pick<EmsgClient, "address" | "renameGroup" | "addToGroup" | "removeFromGroup" | "leaveGroup"> & {
  friends(): Promise<readonly PickableFriend[]>;
  history(conversation: string, options: { limit: number }): Promise<readonly GroupEvent[]>;
};

/** What the group reads of a message: who wrote it, and the group event it is. */
type GroupEvent = Pick<MessageRecord, "from" | "notice">;

export interface MemberRow extends SenderLabel {
  you: boolean;
}

/** Asking before a step that cannot be taken back. */
export type GroupConfirm = { kind: "remove"; member: MemberRow } | { kind: "leave" };

/** How our membership ended, as the sentence in place of the composer says it. */
export interface Ending {
  key: MessageKey;
  name?: string;
}

const HISTORY_LOOKED_AT = 200;

/**
 * One group chat's own state beside its timeline: title, roster, whether we are still in it, and
 * the details panel (rename, add, remove with confirmation, leave with confirmation).
 */
export class GroupViewModel extends ActionModel {
  readonly #client: GroupClient;
  readonly #known = new Set<Address>();
  #summary: ConversationSummary;
  #labels: GroupLabels;
  /** The latest group event about us: who removed us, or that we left. */
  #ending: { removedBy: Address | null } | null = null;
  #leftHere = false;
  #labelled = 0;
  detailsOpen = false;
  confirm: GroupConfirm | null = null;
  /** The friend list of "Add members", while it is open. */
  adding: FriendPicker | null = null;
  /** A rename that was refused before it reached the core (empty, too long). */
  renameProblem: MessageKey | null = null;

  #names: ((address: Address) => PersonName) | undefined;

  constructor(client: GroupClient, summary: ConversationSummary, names?: (address: Address) => PersonName) {
    super();
    this.#client = client;
    this.#summary = summary;
    this.#names = names;
    this.#labels = this.#label(summary.members);
  }

  /** Someone's display name changed (PROTOCOL §8.2): the roster and timeline name them anew. */
  setNames(names: (address: Address) => PersonName): void {
    this.#names = names;
    this.#labels = this.#label([]);
    this.changed();
  }

  get conversation(): string {
    return this.#summary.conversation;
  }
  get title(): string {
    return this.#summary.title ?? "";
  }
  get memberCount(): number {
    return this.#summary.members.length;
  }
  membersLabel(t: Translate): string {
    return membersLabel(this.memberCount, t);
  }
  get left(): boolean {
    return this.#leftHere || this.#summary.left === true;
  }
  /** How people are named in this group's timeline; a new object only when a name may change. */
  get labels(): GroupLabels {
    return this.#labels;
  }

  /** You first, then everyone else by name. */
  get members(): MemberRow[] {
    const self = this.#client.address;
    return this.#summary.members
      .map((address) => ({ ...this.#labels.label(address), you: address === self }))
      .sort((a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name));
  }

  get ending(): Ending | null {
    if (!this.left) return null;
    if (this.#summary.moved) return { key: "group.moved" };
    const removedBy = this.#ending?.removedBy ?? null;
    if (removedBy) return { key: "group.removedBy", name: this.#labels.label(removedBy).name };
    return { key: this.#ending || this.#leftHere ? "group.left" : "group.removed" };
  }

  /** Reads recent history once: past senders get names that stay apart, and a past ending is known. */
  async load(): Promise<void> {
    const page = await this.#client.history(this.conversation, { limit: HISTORY_LOOKED_AT });
    for (const message of page) this.#take(message);
    this.#relabel();
    this.changed();
  }

  /** The core's newest summary of this group (renamed, members changed, we left). */
  update(summary: ConversationSummary): void {
    this.#summary = summary;
    this.#relabel();
    this.changed();
  }

  /** A message or event arrived in this group. */
  noticed(message: MessageRecord): void {
    this.#take(message);
    this.#relabel();
    this.changed();
  }

  #take(message: GroupEvent): void {
    this.#known.add(message.from);
    const notice = message.notice;
    if (!notice) return;
    for (const who of notice.who ?? []) this.#known.add(who);
    const self = this.#client.address;
    if (notice.type === "removed" && notice.who?.includes(self)) this.#ending = { removedBy: notice.by };
    else if (notice.type === "left" && notice.by === self) this.#ending = { removedBy: null };
    else if (notice.type === "added" && notice.who?.includes(self)) this.#ending = null;
  }

  #label(members: readonly Address[]): GroupLabels {
    for (const member of members) this.#known.add(member);
    this.#labelled = this.#known.size;
    return { self: this.#client.address, label: senderLabels([...this.#known], this.#names) };
  }

  /** People are only ever added to what is known, so a name can change only when the count does. */
  #relabel(): void {
    for (const member of this.#summary.members) this.#known.add(member);
    if (this.#known.size !== this.#labelled) this.#labels = this.#label([]);
  }

  openDetails(): void {
    this.detailsOpen = true;
    this.error = null;
    this.changed();
  }

  closeDetails(): void {
    this.detailsOpen = false;
    this.confirm = null;
    this.adding = null;
    this.renameProblem = null;
    this.changed();
  }

  askRemove(member: MemberRow | null): void {
    this.confirm = member ? { kind: "remove", member } : null;
    this.changed();
  }

  askLeave(asking: boolean): void {
    this.confirm = asking ? { kind: "leave" } : null;
    this.changed();
  }

  async rename(title: string): Promise<boolean> {
    this.renameProblem = groupTitleProblem(title);
    if (this.renameProblem) {
      this.changed();
      return false;
    }
    if (title.trim() === this.title) return true;
    return this.attempt(() => this.#client.renameGroup(this.conversation, title.trim()));
  }

  async startAdding(): Promise<void> {
    const friends = await this.#client.friends();
    // Named as the roster names them, also after a name changes while the list is open.
    this.adding = new FriendPicker(pickable(friends, this.#summary.members), (address) => this.#names?.(address));
    this.changed();
  }

  cancelAdding(): void {
    this.adding = null;
    this.changed();
  }

  toggleAdding(address: Address): void {
    this.adding?.toggle(address);
    this.changed();
  }

  setAddingQuery(query: string): void {
    if (this.adding) this.adding.query = query;
    this.changed();
  }

  async addChosen(): Promise<boolean> {
    const chosen = this.adding?.chosen ?? [];
    if (chosen.length === 0) return false;
    const done = await this.attempt(() => this.#client.addToGroup(this.conversation, chosen));
    if (done) this.adding = null;
    this.changed();
    return done;
  }

  /** Removes the member the confirmation asked about. */
  async removeConfirmed(): Promise<boolean> {
    const confirm = this.confirm;
    if (confirm?.kind !== "remove") return false;
    const done = await this.attempt(() => this.#client.removeFromGroup(this.conversation, [confirm.member.address]));
    if (done) this.confirm = null;
    this.changed();
    return done;
  }

  async leaveConfirmed(): Promise<boolean> {
    if (this.confirm?.kind !== "leave") return false;
    const done = await this.attempt(() => this.#client.leaveGroup(this.conversation));
    if (done) {
      this.#leftHere = true;
      this.#ending = { removedBy: null };
      this.closeDetails();
    }
    return done;
  }

}
