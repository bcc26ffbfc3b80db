import { displayNameProblem, PROFILE_NAME_MAX_CHARS, tidyDisplayName, type Avatar } from "../../shared/profile.js";
import type { MessageKey } from "../i18n/en.js";
import { ActionModel } from "./action-model.js";
import type { EmsgClient } from "./core-types.js";
import { avatarUrl, initialOf } from "./people-names.js";
import { localPart } from "./sender-label.js";

/** The core's part the profile form uses: the PWA's core, or the extension's background; `address` is this account's. */
export type ProfileEditClient = Pick<EmsgClient, "address" | "profile" | "setProfile">;

/**
 * This account's display name and avatar (PROTOCOL §8.2), as Settings edits them: nothing reaches
 * the core until Save, and a name the protocol refuses is explained before it is sent.
 */
export class ProfileViewModel extends ActionModel {
  readonly #client: ProfileEditClient;
  name = "";
  avatar: Avatar | null = null;
  /** Why the name cannot be saved as typed; null when it can. */
  problem: MessageKey | null = null;
  saved = false;
  #loaded: { name: string; avatar: Avatar | null } = { name: "", avatar: null };
  /** The person changed the form: what they typed or picked stays when the saved profile arrives. */
  #touched = false;

  constructor(client: ProfileEditClient) {
    super();
    this.#client = client;
  }

  async load(): Promise<void> {
    const profile = await this.#client.profile();
    this.#loaded = { name: profile?.name ?? "", avatar: profile?.avatar ?? null };
    if (!this.#touched) {
      this.name = this.#loaded.name;
      this.avatar = this.#loaded.avatar;
    }
    this.changed();
  }

  get avatarUrl(): string | null {
    return avatarUrl(this.avatar ?? undefined);
  }

  /** The avatar's letter without a picture: of the name as typed, else of the address before '#', as friends see it. */
  get initial(): string {
    return initialOf(tidyDisplayName(this.name) || localPart(this.#client.address));
  }

  get dirty(): boolean {
    return tidyDisplayName(this.name) !== this.#loaded.name || this.avatar !== this.#loaded.avatar;
  }

  setName(text: string): void {
    this.name = text;
    this.#touched = true;
    this.problem = null;
    this.saved = false;
    this.changed();
  }

  /** A picture already cropped and shrunk by the view (or null to remove it). */
  setAvatar(avatar: Avatar | null): void {
    this.avatar = avatar;
    this.#touched = true;
    this.saved = false;
    this.changed();
  }

  async save(): Promise<void> {
    const name = tidyDisplayName(this.name);
    this.problem = nameProblem(name);
    if (this.problem) return this.changed();
    const avatar = this.avatar;
    if (await this.attempt(() => this.#client.setProfile(name, avatar))) {
      this.#loaded = { name, avatar };
      this.name = name;
      this.saved = true;
      this.changed();
    }
  }
}

/** The sentence for a name the protocol refuses (PROTOCOL §8.2), or null when it may be sent. */
export function nameProblem(name: string): MessageKey | null {
  if (displayNameProblem(name) === undefined) return null;
  if (name === "") return "profile.nameEmpty";
  return [...name].length > PROFILE_NAME_MAX_CHARS ? "profile.nameLong" : "profile.nameBad";
}
