// The EMSG command-line client: `npm run cli -- [--state DIR] COMMAND …` over the client core.
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { EmsgError, ERROR_SENTENCE } from "../shared/errors.js";
import { safetyNumberGroups } from "../shared/safety-number.js";
import { EmsgClient } from "../shared/client/client.js";
import { FileStore } from "./file-store.js";
import { nodeTransport } from "./node-transport.js";
import { formatMessage, lastLineText, time } from "./format.js";
import { failedCommand, MESSAGE_USAGE, messageCommand, MessageUsageError } from "./message-commands.js";
import { listen } from "./listen.js";
import { FILE_USAGE, saveFiles, sendFile } from "./file-commands.js";
import { exportCommand, importCommand } from "./account-file.js";
import { GROUP_USAGE, groupCommand, GroupUsageError } from "./group.js";
import { nicknameCommand, PROFILE_USAGE, setAvatarCommand, setNameCommand, terminalNames } from "./profile-commands.js";
import { useNodeCrypto } from "./node-ed25519.js";

// MLS signatures and digests through Node's crypto directly (not WebCrypto's crypto thread, not pure JS).
useNodeCrypto();

const USAGE = `usage: npm run cli -- [--state DIR] COMMAND
  register ADDRESS [--server ORIGIN] [--label NAME]   make an account on this machine
  whoami                                              show this account
  add ADDRESS [NOTE…]                                 send a friend request
  requests                                            list friend requests waiting for you
  accept|decline|block ADDRESS                        answer a request, or block someone
  friends                                             list friends
${PROFILE_USAGE}
  verify ADDRESS                                      show the safety number with a friend
  send ADDRESS|GROUP TEXT…                            send a message to a friend or into a group
  read [ADDRESS|GROUP]                                fetch new messages; show a conversation or all
${MESSAGE_USAGE}
${FILE_USAGE}
${GROUP_USAGE}
  listen                                              stay connected and print what arrives
  settings [--strangers accept|refuse|review] [--retention DAYS|none] [--receipts on|off]
  retention ADDRESS|GROUP [DAYS|none|default]         show or set a chat's disappearing timer, for everyone in it (default: each one's account setting)
  delete-account [--yes]                              delete this account for good (asks first, unless --yes)
  help                                                show this (also --help)
  export FILE                                         seal the account into FILE (passphrase: EMSG_PASSPHRASE or asked)
  import FILE --as ADDRESS [--label NAME]             move an exported account here, to ADDRESS; friends are told
GROUP is a group's id (HUB/ID) as create and read print it.
State lives in --state (default .state/cli). EMSG_RESOLVE maps test domains to local servers.`;

class UsageError extends Error {}

/** Flags that take no value. */
const SWITCHES = new Set(["yes", "help", "remove"]);

interface Args {
  command: string;
  positional: string[];
  flags: Map<string, string>;
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || (arg.startsWith("--") && SWITCHES.has(arg.slice(2)))) {
      flags.set(arg === "-h" ? "help" : arg.slice(2), "yes");
    } else if (arg.startsWith("--")) {
      const value = argv[i + 1];
      if (value === undefined) throw new UsageError(`${arg} needs a value.`);
      flags.set(arg.slice(2), value);
      i++;
    } else positional.push(arg);
  }
  const [first = "help", ...rest] = positional;
  return { command: flags.has("help") ? "help" : first, positional: rest, flags };
}

function need(args: Args, index: number, what: string): string {
  const value = args.positional[index];
  if (value === undefined) throw new UsageError(`${args.command} needs ${what}.`);
  return value;
}

async function openClient(args: Args): Promise<EmsgClient> {
  const client = new EmsgClient({
    store: new FileStore(resolve(args.flags.get("state") ?? ".state/cli")),
    transport: nodeTransport,
    ...(process.env.EMSG_RESOLVE ? { resolve: process.env.EMSG_RESOLVE } : {}),
  });
  if (args.command === "register") return client;
  const opened = await client.open();
  if (!opened && args.command !== "import" && args.command !== "help") {
    throw new UsageError("There is no account in this state directory yet; run register first.");
  }
  // No timer runs here: what is past its chat's retention (or the account's) goes before each command.
  if (opened) await client.expire();
  return client;
}

async function showRead(client: EmsgClient, who: string | undefined, filesDir: string): Promise<void> {
  await client.sync();
  if (who) {
    const shown = await client.history(who, { limit: 100 });
    const byId = new Map(shown.map((m) => [m.id, m]));
    const nameOf = await terminalNames(client);
    for (const m of shown) console.log(formatMessage(m, m.replyTo === undefined ? undefined : byId.get(m.replyTo), nameOf));
    await saveFiles(client, shown, filesDir);
    await client.markRead(who);
    await client.flush();
    return;
  }
  const conversations = await client.conversations();
  if (conversations.length === 0) console.log("No conversations yet.");
  const nameOf = await terminalNames(client);
  for (const c of conversations) {
    const name = c.kind === "group" ? `"${c.title ?? "(no name yet)"}" ${c.conversation}${c.left ? " (left)" : ""}` : (c.peer ? nameOf(c.peer) : c.members.join(", "));
    const last = c.last ? `  ${lastLineText(c.last, nameOf)}` : "";
    console.log(`${name}  (${c.unread} unread)${last}`);
  }
}

async function run(args: Args): Promise<void> {
  const client = await openClient(args);
  switch (args.command) {
    case "register": {
      const server = args.flags.get("server");
      const label = args.flags.get("label") ?? "cli";
      const account = await client.register(need(args, 0, "an address"), { label, ...(server ? { server } : {}) });
      console.log(`Registered ${account.address} (device ${account.deviceId}) at ${account.origin}.`);
      return;
    }
    case "whoami": {
      const a = client.account!;
      const profile = await client.profile();
      if (profile) console.log(`${profile.name}${profile.avatar ? " (with a picture)" : ""}`);
      console.log(`${a.address}\n  device ${a.deviceId}\n  server ${a.origin}\n  account key ${a.accountPublicKey}`);
      return;
    }
    case "add": {
      const friend = await client.sendFriendRequest(need(args, 0, "an address"), args.positional.slice(1).join(" "));
      console.log(friend.state === "friend" ? `${friend.address} is your friend now.` : `Friend request sent to ${friend.address}.`);
      return;
    }
    case "requests": {
      await client.sync();
      const waiting = (await client.friends()).filter((f) => f.state === "incoming" || f.state === "held");
      if (waiting.length === 0) console.log("No friend requests.");
      for (const f of waiting) console.log(`${f.address}${f.note ? `: "${f.note}"` : ""}  (${time(f.since)})`);
      return;
    }
    case "accept":
    case "decline":
    case "block": {
      await client.sync();
      const address = need(args, 0, "an address");
      const friend =
        args.command === "accept" ? await client.acceptFriend(address)
        : args.command === "decline" ? await client.declineFriend(address)
        : await client.block(address);
      console.log(`${friend.address}: ${friend.state}.`);
      return;
    }
    case "friends": {
      await client.sync();
      const all = await client.friends();
      if (all.length === 0) console.log("No friends yet.");
      const nameOf = await terminalNames(client);
      for (const f of all) console.log(`${nameOf(f.address)}  ${f.state}${f.bounced ? ` (not delivered: ${ERROR_SENTENCE[f.bounced as keyof typeof ERROR_SENTENCE] ?? f.bounced})` : ""}`);
      return;
    }
    case "set-name":
      if (args.positional.length === 0) throw new UsageError("set-name needs a name.");
      return setNameCommand(client, args.positional);
    case "set-avatar":
      return setAvatarCommand(client, args.positional[0], args.flags.has("remove"));
    case "nickname":
      return nicknameCommand(client, need(args, 0, "an address"), args.positional.slice(1), args.flags.has("remove"));
    case "verify": {
      const address = need(args, 0, "an address");
      // The friend's key arrives with their answer to the request: fetch it first.
      await client.sync();
      console.log(`Safety number with ${address}:\n  ${safetyNumberGroups(await client.safetyNumber(address)).join(" ")}`);
      console.log("Compare it with theirs in person or over a call; if it matches, nobody is in between.");
      return;
    }
    case "send": {
      const to = need(args, 0, "an address");
      const text = args.positional.slice(1).join(" ");
      if (!text) throw new UsageError("send needs some text.");
      await client.sync();
      const message = await client.sendText(to, text);
      const waiting = await client.flush();
      const [now] = (await client.history(to)).filter((m) => m.id === message.id);
      console.log(waiting > 0 ? "Queued; it goes out when your server can be reached (run read or listen)." : formatMessage(now ?? message));
      return;
    }
    case "read":
      return showRead(client, args.positional[0], resolve(args.flags.get("files") ?? join(args.flags.get("state") ?? ".state/cli", "files")));
    case "send-file": {
      const to = need(args, 0, "an address or a group");
      const path = need(args, 1, "a file");
      await client.sync();
      const message = await sendFile(client, to, path);
      const waiting = await client.flush();
      const [now] = (await client.history(to)).filter((m) => m.id === message.id);
      const shown = now ?? message;
      console.log(waiting > 0 || shown.status === "sending" ? "Queued; it goes out when your server can be reached (run read or listen)." : formatMessage(shown));
      return;
    }
    case "reply":
    case "react":
    case "edit":
    case "delete":
    case "retry":
      return messageCommand(client, args.command, args.positional, args.flags);
    case "failed":
      return failedCommand(client, args.positional[0]);
    case "listen":
      return listen(client);
    case "group":
      return groupCommand(client, args.positional);
    case "settings": {
      const strangers = args.flags.get("strangers");
      const retention = args.flags.get("retention");
      const receipts = args.flags.get("receipts");
      const change: Parameters<EmsgClient["setSettings"]>[0] = {};
      if (strangers) change.strangers = strangers as "accept" | "refuse" | "review";
      if (retention) change.retentionDays = retention === "none" ? null : Number(retention);
      if (receipts !== undefined && receipts !== "on" && receipts !== "off") throw new UsageError("--receipts is on or off.");
      if (receipts) change.readReceipts = receipts === "on";
      const settings = Object.keys(change).length ? await client.setSettings(change) : await client.settings();
      console.log(`strangers: ${settings.strangers}\nretention: ${settings.retentionDays === null ? "keep forever" : `${settings.retentionDays} days`}`);
      console.log(`read receipts and typing: ${settings.readReceipts === false ? "off" : "on"}`);
      return;
    }
    case "retention": {
      const chat = need(args, 0, "a friend's address or a group");
      const wanted = args.positional[1];
      if (wanted !== undefined) {
        // The chat's timer is everyone's in it (PROTOCOL §8.1): sent to them, each sees a notice.
        await client.setChatRetention(chat, wanted === "default" ? undefined : wanted === "none" ? null : Number(wanted));
        await client.flush();
        await client.expire();
      }
      const days = await client.chatRetention(chat);
      console.log(`${chat}: ${days === undefined ? "the account's retention" : days === null ? "keep forever" : `${days} day${days === 1 ? "" : "s"}`}`);
      return;
    }
    case "export":
      return exportCommand(client, need(args, 0, "a file name"));
    case "import":
      return importCommand(client, need(args, 0, "a file name"), args.flags.get("as"), args.flags.get("label") ?? "cli");
    case "delete-account": {
      const address = client.address;
      if (!args.flags.has("yes") && !(await confirmed(address))) {
        console.log("Nothing was deleted.");
        return;
      }
      await client.deleteAccount();
      console.log(`${address} is deleted; friends were told, and the name stays reserved for 30 days.`);
      return;
    }
    case "help":
      console.log(USAGE);
      return;
    default:
      throw new UsageError(`Unknown command "${args.command}".`);
  }
}

/** Asks to type the address before deleting it; a script passes --yes instead. */
async function confirmed(address: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new UsageError("delete-account deletes the account for good: add --yes to confirm from a script.");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`This deletes ${address} for good: its keys, friends and messages. Type the address to confirm: `);
    return answer.trim() === address;
  } finally {
    rl.close();
  }
}

function explain(error: unknown): string {
  if (!(error instanceof EmsgError)) return error instanceof Error ? error.message : String(error);
  const sentence = ERROR_SENTENCE[error.code];
  return error.message === sentence ? sentence : `${sentence} (${error.message})`;
}

async function main(): Promise<void> {
  try {
    await run(parseArgs(process.argv.slice(2)));
  } catch (error) {
    if (error instanceof UsageError || error instanceof GroupUsageError || error instanceof MessageUsageError) {
      if (error.message) console.error(error.message);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(`emsg: ${explain(error)}`);
    process.exit(1);
  }
}

await main();
