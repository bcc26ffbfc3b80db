import type { EmsgPageApi } from "../messaging/page-api.js";

/**
 * One web messenger's integration: small and isolated, so a messenger changing its markup
 * breaks only its own adapter. `mount` returns a function that removes everything it added.
 */
export interface MessengerAdapter {
  readonly name: string;
  matches(location: Location, document: Document): boolean;
  mount(document: Document, api: EmsgPageApi): () => void;
}
