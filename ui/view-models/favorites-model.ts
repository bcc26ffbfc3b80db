import type { AppContext } from "./app-context.js";
import type { EmsgClient } from "./core-types.js";
import type { Favorite } from "./local-records.js";
import { Observable } from "./observable.js";
import { clockTime, dayLabel } from "./time-format.js";

export interface FavoriteRow {
  id: string;
  author: string;
  text: string;
  when: string;
  peer: string;
  conversation: string | null;
}

export function favoriteRow(favorite: Favorite, now: number, ctx: Pick<AppContext, "locale" | "t">, youLabel: string): FavoriteRow {
  return {
    id: favorite.id,
    author: favorite.mine ? youLabel : favorite.from,
    text: favorite.text,
    when: `${dayLabel(favorite.at, now, ctx.locale, ctx.t)} ${clockTime(favorite.at, ctx.locale)}`,
    peer: favorite.peer,
    conversation: favorite.conversation || null,
  };
}

/** What the starred list reads: this device's records, and the address that is "you". */
export type FavoritesContext = Pick<AppContext, "records" | "locale" | "t" | "now"> & { readonly client: Pick<EmsgClient, "address"> };

/** Starred messages, newest first; they are copies, so they stay after the messages expire. */
export class FavoritesViewModel extends Observable {
  readonly #ctx: FavoritesContext;
  readonly #onUnstar: (id: string) => void;
  #favorites: Favorite[] = [];

  constructor(ctx: FavoritesContext, onUnstar: (id: string) => void) {
    super();
    this.#ctx = ctx;
    this.#onUnstar = onUnstar;
  }

  async load(): Promise<void> {
    this.#favorites = await this.#ctx.records.favorites();
    this.changed();
  }

  get rows(): FavoriteRow[] {
    const you = this.#ctx.client.address;
    return this.#favorites.map((f) => favoriteRow(f, this.#ctx.now(), this.#ctx, you));
  }

  get ids(): Set<string> {
    return new Set(this.#favorites.map((f) => f.id));
  }

  async unstar(id: string): Promise<void> {
    await this.#ctx.records.unstar(id);
    this.#onUnstar(id);
    await this.load();
  }
}
