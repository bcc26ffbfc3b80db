import type { Address } from "../../shared/address.js";
import type { MessageKey } from "../i18n/en.js";
import type { ConversationSummary, EmsgClient } from "./core-types.js";
import { FriendPicker, type PickableFriend, type PickerNames, pickable } from "./friend-picker.js";
import { ActionModel } from "./action-model.js";

export const GROUP_TITLE_MAX = 100;
/** Besides this account: with fewer, it is a chat with one friend (the core refuses a smaller group). */
export const GROUP_MIN_OTHERS = 2;

/** What is wrong with a group name, if anything; counted as the browser's maxlength counts. */
export function groupTitleProblem(title: string): MessageKey | null {
  const trimmed = title.trim();
  if (trimmed.length === 0) return "group.nameMissing";
  if (trimmed.length > GROUP_TITLE_MAX) return "group.nameLong";
  return null;
}

/** The core, or anything that asks it (the extension's panel asks its background). */
export type NewGroupClient = Pick<EmsgClient, "createGroup"> & { friends(): Promise<readonly PickableFriend[]> };

/** The "New group" dialog: a name and friends picked from a list; the core makes the group. */
export class NewGroupViewModel extends ActionModel {
  readonly #client: NewGroupClient;
  readonly #names: PickerNames | undefined;
  picker = new FriendPicker([]);
  loaded = false;
  title = "";
  /** Set after Create was pressed: problems show once the person tried, not while they type. */
  tried = false;

  /** `names`: how friends are named, as everywhere else (their display names). */
  constructor(client: NewGroupClient, names?: PickerNames) {
    super();
    this.#client = client;
    this.#names = names;
  }

  async load(): Promise<void> {
    this.picker = new FriendPicker(pickable(await this.#client.friends()), this.#names);
    this.loaded = true;
    this.changed();
  }

  /** Too few friends to make a group of. */
  get tooFewFriends(): boolean {
    return this.loaded && this.picker.choices.length < GROUP_MIN_OTHERS;
  }

  get titleProblem(): MessageKey | null {
    return this.tried ? groupTitleProblem(this.title) : null;
  }

  get membersProblem(): MessageKey | null {
    return this.tried && this.picker.selected.size < GROUP_MIN_OTHERS ? "group.pickSome" : null;
  }

  setTitle(title: string): void {
    this.title = title;
    this.changed();
  }

  setQuery(query: string): void {
    this.picker.query = query;
    this.changed();
  }

  toggle(address: Address): void {
    this.picker.toggle(address);
    this.changed();
  }

  /** Makes the group; the summary of the new group, or null when something is missing or failed. */
  async create(): Promise<ConversationSummary | null> {
    this.tried = true;
    this.error = null;
    if (this.busy || groupTitleProblem(this.title) || this.picker.selected.size < GROUP_MIN_OTHERS) {
      this.changed();
      return null;
    }
    let made: ConversationSummary | null = null;
    await this.attempt(async () => {
      made = await this.#client.createGroup(this.title.trim(), this.picker.chosen);
    });
    return made;
  }
}
