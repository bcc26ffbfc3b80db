import { readFile } from "node:fs/promises";
import { type Address, parseAddress } from "../shared/address.js";
import { toB64u } from "../shared/base64url.js";
import type { EmsgClient } from "../shared/client/client.js";
import { personNames } from "../shared/client/display-names.js";
import { EmsgError } from "../shared/errors.js";
import { AVATAR_MAX_BYTES, avatarTypeOf } from "../shared/profile.js";

export const PROFILE_USAGE = `  set-name NAME…                                      set your display name, sent to your friends and groups
  set-avatar PATH|--remove                            set your picture (a JPEG, PNG or WebP of at most 24 KiB, e.g. 256x256), or remove it
  nickname ADDRESS [NAME…|--remove]                   name someone on this device only (over their own name), show it, or take it away`;

/** Sends what the profile change queued, and says who will see it. */
async function announce(client: EmsgClient, what: string): Promise<void> {
  await client.sync();
  const waiting = await client.flush();
  console.log(`${what}${waiting > 0 ? " It goes out when your server can be reached (run read or listen)." : " Your friends and groups see it now."}`);
}

export async function setNameCommand(client: EmsgClient, words: string[]): Promise<void> {
  const profile = await client.setProfile(words.join(" "));
  await announce(client, `Your name is "${profile.name}".`);
}

/** A terminal cannot crop or shrink a picture: the file must already be a small JPEG, PNG or WebP. */
export async function setAvatarCommand(client: EmsgClient, path: string | undefined, remove: boolean): Promise<void> {
  const name = (await client.profile())?.name;
  if (name === undefined) throw new EmsgError("bad_request", "Set your name first (set-name): a picture goes with a name.");
  if (remove) {
    await client.setProfile(name, null);
    return announce(client, "Your picture is removed.");
  }
  if (path === undefined) throw new EmsgError("bad_request", "set-avatar needs a picture file, or --remove.");
  const bytes = new Uint8Array(await readFile(path));
  const mediaType = avatarTypeOf(bytes);
  if (!mediaType) throw new EmsgError("bad_request", `${path} is not a JPEG, PNG or WebP picture.`);
  if (bytes.length > AVATAR_MAX_BYTES) {
    throw new EmsgError("too_large", `${path} is ${bytes.length} bytes; a picture is at most ${AVATAR_MAX_BYTES}. Shrink it to 256x256 first.`);
  }
  await client.setProfile(name, { mediaType, data: toB64u(bytes) });
  await announce(client, `Your picture is ${path} (${bytes.length} bytes).`);
}

/**
 * A name for someone that only this device shows (PROTOCOL §8.2), through the core's call the PWA's
 * Friends list uses; without a name it says the one given, `--remove` takes it away.
 */
export async function nicknameCommand(client: EmsgClient, who: string, words: string[], remove: boolean): Promise<void> {
  const address = parseAddress(who).address;
  if (words.length === 0 && !remove) {
    const given = (await client.nicknames()).get(address);
    console.log(given === undefined ? `${address} has no nickname on this device.` : `${address} is "${given}" on this device.`);
    return;
  }
  if (words.length > 0 && remove) throw new EmsgError("bad_request", "nickname takes a name or --remove, not both.");
  const nickname = await client.setNickname(address, remove ? null : words.join(" "));
  console.log(nickname === null ? `${address} has no nickname on this device now.` : `${address} is "${nickname}" on this device; nobody else sees it.`);
}

/**
 * How the terminal names people: "Alice (alice#im.alice.test)" for anyone with a nickname or display name (a
 * terminal has no hover, so the address is always beside the claim), the address otherwise.
 */
export async function terminalNames(client: EmsgClient): Promise<(address: Address) => string> {
  const profiles = await client.profiles();
  const nicknames = await client.nicknames();
  const resolve = personNames({ people: [...profiles.keys(), ...nicknames.keys()], names: new Map([...profiles].map(([a, p]) => [a, p.name])), nicknames });
  return (address) => {
    const person = resolve(address);
    return person.source === "address" ? address : `${person.name} (${address})`;
  };
}
