import type { Store } from "../../shared/client/store.js";

/**
 * What the PWA itself remembers beside the client core, in the same sealed store under `pwa/`:
 * starred messages (copied, so they outlive expiry) and keys the person has seen or verified per
 * friend. Chat retention is the core's (`EmsgClient.setChatRetention`); what older versions kept
 * here is taken once and handed over.
 */
export interface Favorite {
  id: string;
  conversation: string;
  peer: string;
  from: string;
  mine: boolean;
  text: string;
  at: number;
  starredAt: number;
}

export interface KeyMemory {
  /** The account key first seen (or last accepted) for this friend. */
  key: string;
  /** True once the person compared safety numbers for exactly this key. */
  verified: boolean;
}

const FAV = "pwa/fav/";
const KEYS = "pwa/key/";
const RETENTION = "pwa/retention/";
const DRAFT = "pwa/draft/";
const MARK = "pwa/mark/";
const NOTIFY_OFFER = "pwa/notify-offer-answered";

export type ChatMark = "pinned" | "muted";

export class LocalRecords {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async favorites(): Promise<Favorite[]> {
    return (await this.#store.list<Favorite>(FAV)).map(([, f]) => f).sort((a, b) => b.at - a.at);
  }

  async star(favorite: Favorite): Promise<void> {
    await this.#store.put(FAV + favorite.id, favorite);
  }

  async unstar(id: string): Promise<void> {
    await this.#store.delete(FAV + id);
  }

  /** Whether the person answered the offer to turn notifications on (either way): it is made once. */
  async notificationOfferAnswered(): Promise<boolean> {
    return (await this.#store.get<true>(NOTIFY_OFFER)) === true;
  }

  async answerNotificationOffer(): Promise<void> {
    await this.#store.put(NOTIFY_OFFER, true);
  }

  /** What was typed in a chat and not sent yet (the friend's address or the conversation id). */
  async draft(chat: string): Promise<string> {
    return (await this.#store.get<string>(DRAFT + chat)) ?? "";
  }

  async saveDraft(chat: string, text: string): Promise<void> {
    if (text === "") await this.#store.delete(DRAFT + chat);
    else await this.#store.put(DRAFT + chat, text);
  }

  /** The chats marked `mark` on this device. */
  async marked(mark: ChatMark): Promise<Set<string>> {
    return new Set((await this.#store.list<true>(`${MARK}${mark}/`)).map(([key]) => key.slice(`${MARK}${mark}/`.length)));
  }

  /** Whether one chat is marked `mark` (the extension's background asks before it notifies). */
  async isMarked(mark: ChatMark, chat: string): Promise<boolean> {
    return (await this.#store.get<true>(`${MARK}${mark}/${chat}`)) === true;
  }

  async setMarked(mark: ChatMark, chat: string, on: boolean): Promise<void> {
    if (on) await this.#store.put(`${MARK}${mark}/${chat}`, true);
    else await this.#store.delete(`${MARK}${mark}/${chat}`);
  }

  async keyMemory(address: string): Promise<KeyMemory | undefined> {
    return this.#store.get<KeyMemory>(KEYS + address);
  }

  /**
   * Notes the key a friend has now. Returns true when it differs from the one remembered: the
   * remembered one is kept, so the warning stays until the person accepts the new key.
   */
  async observeKey(address: string, key: string): Promise<boolean> {
    if (!key) return false;
    const known = await this.keyMemory(address);
    if (!known) {
      await this.#store.put(KEYS + address, { key, verified: false });
      return false;
    }
    return known.key !== key;
  }

  /** Marks (or clears) verification of the friend's current key; this also accepts a changed key. */
  async setVerified(address: string, key: string, verified: boolean): Promise<void> {
    await this.#store.put(KEYS + address, { key, verified });
  }

  /** The chat retention settings older versions kept here (by friend or group), removed as they are read. */
  async takeRetentionOverrides(): Promise<Map<string, number | null>> {
    const entries = await this.#store.list<{ days: number | null }>(RETENTION);
    for (const [key] of entries) await this.#store.delete(key);
    return new Map(entries.map(([key, entry]) => [key.slice(RETENTION.length), entry.days]));
  }
}
