import type { Address } from "../../shared/address.js";
import type { Locale, Translate } from "../i18n/translate.js";
import type { EmsgClient } from "./core-types.js";
import type { LinkState } from "./connectivity.js";
import type { LocalRecords } from "./local-records.js";

/** What the screen-level view models share: the client, the PWA's own records, and the language. */
export interface AppContext {
  readonly client: EmsgClient;
  readonly records: LocalRecords;
  readonly locale: Locale;
  readonly t: Translate;
  readonly link: LinkState;
  now(): number;
  showSafety(address: Address): void;
  /** Called after a star changes anywhere, so the favorites view and open timeline agree. */
  favoritesChanged(): void;
  /** Applies retention now, after a retention setting changed. */
  runExpiry(): Promise<number>;
}
