import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { FavoritesViewModel } from "../../../ui/view-models/favorites-model.js";
import { useModel } from "../../../ui/views/use-model.js";

export function FavoritesView({ app, favorites }: { app: AppViewModel; favorites: FavoritesViewModel }) {
  useModel(favorites);
  const t = app.t;
  return (
    <div class="main">
      <div class="page">
        <div class="page-inner">
          <h1>{t("favorites.title")}</h1>
          <section class="card" data-testid="favorites">
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
                  {row.conversation ? <button type="button" class="ghost" onClick={() => app.openConversation(row.conversation!)}>{t("favorites.open")}</button> : null}
                  <button type="button" class="ghost" onClick={() => void favorites.unstar(row.id)}>{t("conv.unstar")}</button>
                </div>
              </article>
            ))}
          </section>
        </div>
      </div>
    </div>
  );
}
