import type { Address } from "../address.js";
import { newProfile } from "../content.js";
import { EmsgError } from "../errors.js";
import { type Avatar, displayNameProblem, isNewerProfile, type Profile, type ProfileContent, tidyDisplayName } from "../profile.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, conversationWith } from "./conversation-record.js";
import { listFriends } from "./friends.js";
import { enqueue } from "./outgoing-queue.js";

/**
 * Display names and avatars (PROTOCOL §8.2). This account's own profile, set on any of its devices,
 * and the latest profile of every account met in a conversation, each kept under the address of the
 * MLS sender that sent it: a profile names nobody but its sender, so only an account's own devices
 * can set it. Shared only inside MLS, with friends (their 1:1) and groups.
 */
const OWN = "profile/own";
const theirs = (address: Address) => `profile/of/${address}`;
/** What this device last queued to a conversation: the profile (by `setAt`) and the accounts then in it. */
const sentKey = (conversation: string) => `profile/sent/${conversation}`;

interface Shared {
  setAt: number;
  members: Address[];
}

export function ownProfile(ctx: Pick<CoreContext, "store">): Promise<Profile | undefined> {
  return ctx.store.get<Profile>(OWN);
}

/** Every profile this device holds of other accounts (and its own, under its address). */
export async function knownProfiles(ctx: CoreContext): Promise<Map<Address, Profile>> {
  const all = new Map((await ctx.store.list<Profile>("profile/of/")).map(([key, p]) => [key.slice("profile/of/".length) as Address, p]));
  const own = await ownProfile(ctx);
  if (own) all.set(ctx.account.address, own);
  return all;
}

/**
 * Sets this account's name (as typed: trimmed, NFC) and avatar (`null` removes it, `undefined`
 * keeps the one set). It goes to every friend and group with the next send.
 */
export async function setOwnProfile(ctx: CoreContext, typedName: string, avatar: Avatar | null | undefined): Promise<Profile> {
  const name = tidyDisplayName(typedName);
  const problem = displayNameProblem(name);
  if (problem) throw new EmsgError("bad_request", problem);
  const held = await ownProfile(ctx);
  const kept = avatar === undefined ? held?.avatar : (avatar ?? undefined);
  // Later than anything held, even if this device's clock is behind the one that set it last.
  const setAt = Math.max(ctx.clock.now(), (held?.setAt ?? -1) + 1);
  const profile: Profile = { name, setAt, ...(kept ? { avatar: kept } : {}) };
  // Checked as the wire will be, so a bad avatar fails here rather than in the queue.
  newProfile(profile, setAt);
  await ctx.store.put(OWN, profile);
  ctx.events.emit("profile", { address: ctx.account.address, profile });
  return profile;
}

/**
 * A profile read in a conversation: it is `sender`'s (the MLS sender), kept if it is later than
 * the one held. One from another device of this account becomes this device's own, and counts as
 * shared where this device is (that device shares it too).
 */
export async function readProfile(ctx: CoreContext, record: ConversationRecord, content: ProfileContent, sender: Address): Promise<void> {
  const profile: Profile = { name: content.name, setAt: content.setAt, ...(content.avatar ? { avatar: content.avatar } : {}) };
  if (sender === ctx.account.address) {
    if (!isNewerProfile(await ownProfile(ctx), profile)) return;
    await ctx.store.put(OWN, profile);
    await ctx.store.put(sentKey(record.conversation), { setAt: profile.setAt, members: record.members } satisfies Shared);
  } else {
    if (!isNewerProfile(await ctx.store.get<Profile>(theirs(sender)), profile)) return;
    await ctx.store.put(theirs(sender), profile);
  }
  ctx.events.emit("profile", { address: sender, profile });
}

/** Whether `record` should get the profile set at `setAt`: never yet, an older one, or someone new is in it. */
async function owed(ctx: CoreContext, record: ConversationRecord, setAt: number): Promise<boolean> {
  const sent = await ctx.store.get<Shared>(sentKey(record.conversation));
  return !sent || sent.setAt < setAt || record.members.some((m) => !sent.members.includes(m));
}

/**
 * Queues this account's profile where it is owed: every group it is in and the 1:1 of every friend.
 * A friend with no 1:1 yet gets one made for it by the side whose address sorts first, so both
 * sides do not make one at once; the other side shares into it once it exists.
 */
export async function shareProfile(ctx: CoreContext): Promise<void> {
  const profile = await ownProfile(ctx);
  if (!profile) return;
  const self = ctx.account.address;
  const queue = async (target: { conversation: string } | { peer: Address }, members: Address[]) => {
    // A profile set on a device whose clock runs ahead is not "sent before it was set" from this one.
    await enqueue(ctx, { content: newProfile(profile, Math.max(ctx.clock.now(), profile.setAt)), ...target });
    if ("conversation" in target) await ctx.store.put(sentKey(target.conversation), { setAt: profile.setAt, members } satisfies Shared);
  };
  for (const [, record] of await ctx.store.list<ConversationRecord>("conv/")) {
    if (record.kind !== "group" || record.left || record.unsafe) continue;
    if (await owed(ctx, record, profile.setAt)) await queue({ conversation: record.conversation }, record.members);
  }
  for (const friend of await listFriends(ctx)) {
    if (friend.state !== "friend") continue;
    const record = await conversationWith(ctx, friend.address);
    if (record) {
      if (await owed(ctx, record, profile.setAt)) await queue({ conversation: record.conversation }, record.members);
    } else if (self < friend.address && !(await ctx.store.get(sentKey(`@${friend.address}`)))) {
      await queue({ peer: friend.address }, []);
      // The 1:1 it makes is shared with on creation; this marks the friend so it is made once.
      await ctx.store.put(sentKey(`@${friend.address}`), { setAt: profile.setAt, members: [] } satisfies Shared);
    }
  }
}

const nicknameKey = (address: Address) => `nickname/${address}`;

/** Names this device's user gave people; kept on this device only, never sent (PROTOCOL §8.2). */
export async function nicknames(ctx: Pick<CoreContext, "store">): Promise<Map<Address, string>> {
  return new Map((await ctx.store.list<string>("nickname/")).map(([key, name]) => [key.slice("nickname/".length) as Address, name]));
}

/** Gives `address` a nickname (as typed, under the rules of a display name), or with null takes it away. */
export async function setNickname(ctx: CoreContext, address: Address, typed: string | null): Promise<string | null> {
  const nickname = typed === null || typed.trim() === "" ? null : tidyDisplayName(typed);
  if (nickname === null) await ctx.store.delete(nicknameKey(address));
  else {
    const problem = displayNameProblem(nickname);
    if (problem) throw new EmsgError("bad_request", problem);
    await ctx.store.put(nicknameKey(address), nickname);
  }
  ctx.events.emit("nickname", { address, nickname });
  return nickname;
}
