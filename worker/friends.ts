import type { Address } from "../shared/address.js";
import type { FriendEntry, FriendState, SignedFriendRequest } from "../shared/wire/friends.js";

/** An account's friend list (PROTOCOL §9), kept in the Account object's SQLite. */
export const FRIENDS_SCHEMA = `
CREATE TABLE friends (address TEXT PRIMARY KEY, account_key TEXT NOT NULL, state TEXT NOT NULL,
  since INTEGER NOT NULL, request TEXT);`;

type FriendRow = { address: string; account_key: string; state: string; since: number; request: string | null };

export class Friends {
  /** Counts this object's writes, so a reader may keep what it read until the next one. */
  version = 0;

  constructor(private readonly sql: SqlStorage) {}

  stateOf(address: Address): FriendState | undefined {
    return this.sql.exec<{ state: string }>("SELECT state FROM friends WHERE address = ?", address).toArray()[0]?.state as FriendState | undefined;
  }

  get(address: Address): FriendEntry | undefined {
    const row = this.sql.exec<FriendRow>("SELECT * FROM friends WHERE address = ?", address).toArray()[0];
    return row && toEntry(row);
  }

  list(): FriendEntry[] {
    return this.sql.exec<FriendRow>("SELECT * FROM friends ORDER BY since, address").toArray().map(toEntry);
  }

  /** Sets the relation; `accountKey` empty keeps a key already pinned. */
  set(address: Address, state: FriendState, accountKey: string, now: number, request?: SignedFriendRequest): void {
    this.version++;
    this.sql.exec(
      `INSERT INTO friends (address, account_key, state, since, request) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET state = excluded.state, since = excluded.since, request = excluded.request,
         account_key = CASE WHEN excluded.account_key = '' THEN friends.account_key ELSE excluded.account_key END`,
      address,
      accountKey,
      state,
      now,
      request ? JSON.stringify(request) : null,
    );
  }

  remove(address: Address): boolean {
    this.version++;
    return this.sql.exec("DELETE FROM friends WHERE address = ?", address).rowsWritten > 0;
  }

  /** Everyone who should hear about this account's deletion or move. */
  acquaintances(): Address[] {
    return this.sql
      .exec<{ address: string }>("SELECT address FROM friends WHERE state IN ('friend', 'outgoing', 'incoming')")
      .toArray()
      .map((r) => r.address as Address);
  }
}

function toEntry(row: FriendRow): FriendEntry {
  const entry: FriendEntry = { address: row.address as Address, accountKey: row.account_key, state: row.state as FriendState, since: row.since };
  if (row.request) entry.request = JSON.parse(row.request) as SignedFriendRequest;
  return entry;
}
