import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import type { FavoritesViewModel } from "../../../ui/view-models/favorites-model.js";
import { FavoritesList } from "../../../ui/views/favorites-list.js";

export function FavoritesView({ app, favorites }: { app: AppViewModel; favorites: FavoritesViewModel }) {
  const t = app.t;
  return (
    <div class="main">
      <div class="page">
        <div class="page-inner">
          <h1>{t("favorites.title")}</h1>
          <FavoritesList favorites={favorites} t={t} onOpen={(conversation) => app.openConversation(conversation)} />
        </div>
      </div>
    </div>
  );
}
