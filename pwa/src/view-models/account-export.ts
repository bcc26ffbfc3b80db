import type { AccountRecord } from "../../../shared/client/account-record.js";
import type { AccountSettings, ConversationSummary, Friend } from "./core-types.js";
import type { Favorite } from "./local-records.js";

export interface ExportSources {
  account: AccountRecord;
  friends: readonly Friend[];
  conversations: readonly ConversationSummary[];
  favorites: readonly Favorite[];
  settings: AccountSettings;
  now: number;
}

/**
 * The plaintext of an export archive (PROTOCOL §11) before `sealArchive` encrypts it. Only
 * accepted friends are carried: a pending request means nothing at another provider.
 */
export function exportContents(sources: ExportSources) {
  const { account } = sources;
  return {
    address: account.address,
    accountKey: { pub: account.accountPublicKey, priv: account.accountPrivateKey },
    friends: sources.friends
      .filter((f) => f.state === "friend")
      .map((f) => ({ address: f.address, accountKey: f.accountKey, since: f.since })),
    groups: sources.conversations
      .filter((c) => c.members.length > 2)
      .map((c) => ({ conversation: c.conversation, members: c.members })),
    favorites: sources.favorites.map((f) => ({ id: f.id, peer: f.peer, from: f.from, text: f.text, at: f.at })),
    settings: sources.settings,
    exportedAt: sources.now,
  };
}
