import type { EmsgClient } from "../../shared/client/client.js";
import { MemoryStore } from "../../shared/client/store.js";
import { translator } from "../../ui/i18n/translate.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";

/** What the chat screens get from the app, over a real client core, in English; local records in memory. */
export function chatContext(client: EmsgClient): ChatContext {
  return {
    client,
    records: new LocalRecords(new MemoryStore()),
    locale: "en",
    t: translator("en"),
    link: "online",
    now: () => Date.now(),
    favoritesChanged: () => undefined,
    runExpiry: () => client.expire(),
  } as unknown as ChatContext;
}
