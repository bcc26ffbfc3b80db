import type { Translate } from "../i18n/translate.js";
import type { ChatsViewModel } from "../view-models/chats-model.js";

/** The "Search messages" field above the chat list. */
export function ChatSearchField({ chats, t }: { chats: ChatsViewModel; t: Translate }) {
  return (
    <div class="chat-search">
      <label class="visually-hidden" for="chat-search">{t("chats.search")}</label>
      <input id="chat-search" type="search" placeholder={t("chats.search")} value={chats.searchQuery} onInput={(e) => void chats.search(e.currentTarget.value)} />
    </div>
  );
}

/** What the search found, newest first, shown instead of the chat list; a click opens the chat. */
export function SearchHits({ chats, t }: { chats: ChatsViewModel; t: Translate }) {
  return (
    <>
      {chats.searchHits.length === 0 ? <p class="empty">{t("chats.searchNone")}</p> : null}
      <ul class="plain" aria-label={t("chats.search")}>
        {chats.searchHits.map((hit) => (
          <li key={hit.id}>
            <button type="button" class="chat-row" onClick={() => chats.open(hit.chat)} data-testid="search-hit">
              <span class="grow">
                <span class="top"><span class="title">{hit.title}</span><span class="stamp">{hit.stamp}</span></span>
                <span class="bottom"><span class="preview">{hit.mine ? t("chats.you", { text: hit.text }) : hit.text}</span></span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
