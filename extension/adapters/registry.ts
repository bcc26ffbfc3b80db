import type { MessengerAdapter } from "./adapter.js";
import { converseAdapter } from "./converse.js";
import { elementAdapter } from "./element.js";
import { telegramAdapter } from "./telegram.js";
import { whatsappAdapter } from "./whatsapp.js";

export const ADAPTERS: readonly MessengerAdapter[] = [converseAdapter, elementAdapter, telegramAdapter, whatsappAdapter];

/** The adapter for this page, if it is a messenger EMSG knows. */
export function adapterFor(location: Location, document: Document): MessengerAdapter | undefined {
  return ADAPTERS.find((adapter) => adapter.matches(location, document));
}
