import type { Translate } from "../i18n/translate.js";
import type { FavoritesViewModel } from "../view-models/favorites-model.js";
import { useModel } from "./use-model.js";

/** Starred messages, in both clients: each with where it was said, a way back to its chat, and its star to take off. */
export function FavoritesList({ favorites, t, onOpen }: { favorites: FavoritesViewModel; t: Translate; onOpen(conversation: string): void }) {
  useModel(favorites);
  return (
    <section class="card" data-testid="favorites" aria-label={t("favorites.title")}>
      {favorites.rows.length === 0 ? <p class="empty">{t("favorites.empty")}</p> : null}
      {favorites.rows.map((row) => (
        <article key={row.id} class="fav" data-testid="favorite">
          <div class="row">
            <strong class="grow">{row.author}</strong>
            <span class="hint">{row.when}</span>
          </div>
          <p class="text">{row.text}</p>
          <div class="row">
            <span class="hint grow">{t("favorites.in", { address: row.peer })}</span>
            {row.conversation ? <button type="button" class="ghost" onClick={() => onOpen(row.conversation!)}>{t("favorites.open")}</button> : null}
            <button type="button" class="ghost" onClick={() => void favorites.unstar(row.id)}>{t("conv.unstar")}</button>
          </div>
        </article>
      ))}
    </section>
  );
}
