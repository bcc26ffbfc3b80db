import * as v from "valibot";
import { type Address, type Domain, domainOf } from "../address.js";
import {
  type ArchiveContents,
  type ArchiveFavorite,
  type ArchiveGroup,
  archiveContents,
  type FavoriteCopy,
  sealAccountArchive,
} from "../account-archive.js";
import { EmsgError } from "../errors.js";
import type { ArchiveFile } from "../export-archive.js";
import { deviceKeyId } from "../http-signature.js";
import { fromB64u } from "../base64url.js";
import { signMoved } from "../move.js";
import type { CoreContext } from "./context.js";
import { listConversations } from "./conversation-record.js";
import { introduceMove, isTransient } from "./friend-moves.js";
import { type Friend, getFriend, listFriends, respond, saveFriend } from "./friends.js";
import { loadSettings } from "./account-settings.js";
import { historyForExport } from "./moved-history.js";
import type { ServerApi } from "./server-api.js";

/**
 * Moving an account here from an export (PROTOCOL §11), and making that export. The move is kept
 * as a record, so what could not be done at once (the old server unreachable, say) is retried by
 * `continueMove` until done; the old account key is erased from this device then.
 */

export interface MoveRecord {
  from: Address;
  /** The old account's private key: only until the move is announced and introduced. */
  oldPrivateKey?: string;
  /**
   * The device of the old account that made the export, which hands the notice in (PROTOCOL §11);
   * absent for an export made before moves needed it. Kept as long as the old private key.
   */
  oldDevice?: { deviceId: string; priv: string };
  announced: boolean;
  /** How many contacts the old server told; absent until it answered. */
  told?: number;
  /** Why the old server will never announce it (e.g. the old account was deleted). */
  announceError?: string;
  /** Restored friends still to receive the introduction from this address. */
  introduce: Address[];
  attempts: number;
  nextTry: number;
  started: number;
}

export interface MoveStatus {
  from: Address;
  announced: boolean;
  told: number | null;
  announceError: string | null;
  waiting: number;
  done: boolean;
}

/** The steps of an import as the user may see them: `unlock` (scrypt, with its fraction) takes longest. */
export interface ImportProgress {
  step: "unlock" | "register" | "restore" | "announce" | "done";
  fraction: number;
}

export interface ImportResult extends MoveStatus {
  address: Address;
  friends: number;
  favorites: ArchiveFavorite[];
  groups: ArchiveGroup[];
}

const KEY = "move/out";
const RETRY_FIRST_MS = 60_000;
const RETRY_MAX_MS = 6 * 3600_000;
/** After this long (the mailbox lifetime) an unreachable old server is given up on. */
const GIVE_UP_MS = 30 * 86400_000;

const MoveAnswerSchema = v.object({ told: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) });

export function loadMove(ctx: Pick<CoreContext, "store">): Promise<MoveRecord | undefined> {
  return ctx.store.get<MoveRecord>(KEY);
}

export function statusOf(record: MoveRecord): MoveStatus {
  return {
    from: record.from,
    announced: record.announced,
    told: record.told ?? null,
    announceError: record.announceError ?? null,
    waiting: record.introduce.length + (record.announced ? 0 : 1),
    done: record.oldPrivateKey === undefined,
  };
}

/**
 * Puts the archive's friends on this device as friends, with the keys pinned in the archive, and
 * writes the move record. A friend this account already has is left as it is.
 */
export async function restoreFriends(ctx: CoreContext, contents: ArchiveContents): Promise<Address[]> {
  if (contents.address === ctx.account.address) throw new EmsgError("conflict", "This export is of this very account.");
  const introduce: Address[] = [];
  for (const archived of contents.friends) {
    if (archived.address === ctx.account.address || archived.address === contents.address) continue;
    const existing = await getFriend(ctx, archived.address);
    if (existing?.state === "friend" || existing?.state === "blocked") continue;
    if ((existing?.state === "incoming" || existing?.state === "held") && existing.accountKey === archived.accountKey) {
      await respond(ctx, archived.address, "accept");
      continue;
    }
    await saveFriend(ctx, { address: archived.address, accountKey: archived.accountKey, state: "friend", since: archived.since });
    introduce.push(archived.address);
  }
  const now = ctx.clock.now();
  const record: MoveRecord = {
    from: contents.address,
    oldPrivateKey: contents.accountKey.priv,
    ...(contents.device ? { oldDevice: { deviceId: contents.device.cert.body.deviceId, priv: contents.device.priv } } : {}),
    announced: false,
    introduce,
    attempts: 0,
    nextTry: now,
    started: now,
  };
  await ctx.store.put(KEY, record);
  return introduce;
}

/**
 * Hands a freshly signed notice to the old server, signed as the device that made the export;
 * `conflict` means it took this one already. Without that device (an older export) the server
 * would refuse it as `unauthorized`, so it is not sent: friends then hear of the move only by the
 * introduction, which they take as a stranger's request to answer.
 */
async function announce(record: MoveRecord, oldApi: ServerApi, notice: ReturnType<typeof signMoved>): Promise<MoveRecord> {
  if (!record.oldDevice) return { ...record, announced: true, announceError: "unauthorized" };
  oldApi.setSigner({ keyId: deviceKeyId(record.from, record.oldDevice.deviceId), privateKey: fromB64u(record.oldDevice.priv) });
  try {
    const { told } = await oldApi.call("POST", "/account/moved", { notice }, MoveAnswerSchema);
    return { ...record, announced: true, told };
  } catch (error) {
    if (isTransient(error)) return record;
    if (error instanceof EmsgError && error.code === "conflict") return { ...record, announced: true };
    return { ...record, announced: true, announceError: error instanceof EmsgError ? error.code : "internal" };
  }
}

/** Sends the introductions still waiting; stops at the first that must wait for the network. */
async function introduceAll(ctx: CoreContext, record: MoveRecord, notice: ReturnType<typeof signMoved>): Promise<MoveRecord> {
  let waiting = [...record.introduce];
  for (const address of record.introduce) {
    const friend: Friend | undefined = await getFriend(ctx, address);
    try {
      if (friend?.state === "friend") await introduceMove(ctx, friend, notice);
    } catch (error) {
      if (isTransient(error)) break;
      const code = error instanceof EmsgError ? error.code : "internal";
      if (friend) await saveFriend(ctx, { ...friend, bounced: code });
    }
    waiting = waiting.filter((a) => a !== address);
  }
  return { ...record, introduce: waiting };
}

/**
 * Does what is left of a move: announce it at the old server, introduce the new address to each
 * restored friend. Waits (backing off) while a server cannot be reached; when everything is done,
 * or after 30 days, the old private key is erased. Returns the state, or undefined without a move.
 */
export async function continueMove(ctx: CoreContext, apiFor: (domain: Domain) => ServerApi, force = false): Promise<MoveStatus | undefined> {
  let record = await loadMove(ctx);
  if (!record) return undefined;
  const now = ctx.clock.now();
  if (!record.oldPrivateKey || (!force && now < record.nextTry)) return statusOf(record);
  const { address, accountPublicKey } = ctx.account;
  const notice = signMoved(record.oldPrivateKey, { from: record.from, to: address, accountKey: accountPublicKey, at: now });
  // Introductions first: this server then holds every friend as asked before any of them, told by
  // the old server, answers.
  record = await introduceAll(ctx, record, notice);
  if (!record.announced) record = await announce(record, apiFor(domainOf(record.from)), notice);
  const finished = record.announced && record.introduce.length === 0;
  if (finished || now - record.started > GIVE_UP_MS) {
    const { oldPrivateKey: _erased, oldDevice: _erasedToo, ...rest } = record;
    record = rest;
  } else {
    const attempts = record.attempts + 1;
    record = { ...record, attempts, nextTry: now + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempts - 1)) };
  }
  await ctx.store.put(KEY, record);
  return statusOf(record);
}

/**
 * The archive of this account (PROTOCOL §11): keys, this device's identity (a move is announced
 * as it), friends (those who moved are carried at their new address), groups, settings, the
 * favorites the platform keeps, and the chat history (the newest 20,000 messages).
 */
export async function exportAccount(
  ctx: CoreContext,
  passphrase: string,
  opts: { favorites?: readonly FavoriteCopy[]; onProgress?: (fraction: number) => void; N?: number } = {},
): Promise<ArchiveFile> {
  const { account } = ctx;
  const friends = (await listFriends(ctx)).filter((f) => f.state === "friend" && f.accountKey !== "" && !f.movedTo);
  const groups = (await listConversations(ctx)).filter((c) => c.kind === "group");
  const contents = archiveContents({
    address: account.address,
    accountKey: { pub: account.accountPublicKey, priv: account.accountPrivateKey },
    device: { cert: account.deviceCert, priv: account.devicePrivateKey },
    friends,
    groups: groups.map((c) => ({
      conversation: c.conversation as ArchiveGroup["conversation"],
      members: c.members,
      ...(c.title === undefined ? {} : { title: c.title }),
    })),
    favorites: opts.favorites ?? [],
    history: await historyForExport(ctx),
    settings: await loadSettings(ctx),
    exportedAt: ctx.clock.now(),
  });
  return sealAccountArchive(contents, passphrase, {
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.N ? { N: opts.N } : {}),
  });
}
