// `reply`, `react`, `edit`, `delete` and `retry`: acting on a message shown by `read`, named by the start of its id (PROTOCOL §8.1);
// `failed`: your messages that failed to send.
import type { Address } from "../shared/address.js";
import type { EmsgClient } from "../shared/client/client.js";
import type { MessageRecord } from "../shared/client/messages.js";
import { chatOfMoved } from "../shared/client/moved-history.js";
import { ERROR_SENTENCE, type ErrorCode } from "../shared/errors.js";
import { formatMessage, shortId } from "./format.js";
import { terminalNames } from "./profile-commands.js";

export const MESSAGE_USAGE = `  reply ADDRESS|GROUP ID TEXT…                        answer a message (ID: its first letters as read shows them,
                                                      or last: the latest to you; for edit, delete and retry, yours)
  react ADDRESS|GROUP ID EMOJI [--remove]             react to a message, or take the reaction back
  edit ADDRESS|GROUP ID TEXT…                         change the words of your message, for everyone
  delete ADDRESS|GROUP ID                             delete your message for everyone (one that failed to send: from this device)
  failed [ADDRESS|GROUP]                              list your messages that failed to send, in a chat or all
  retry ADDRESS|GROUP ID                              send a message of yours that failed to send again`;

export class MessageUsageError extends Error {}

const isFailed = (m: MessageRecord) => m.direction === "out" && m.status === "failed";

/**
 * The message of the chat whose id starts with `prefix` (exactly one must), or for `last` the latest
 * one that the command can act on: your own for edit and delete, the other side's for reply and react,
 * your own that failed to send for retry (`failedOnly`, which also picks among those alone).
 */
async function pick(client: EmsgClient, chat: string, prefix: string, own: boolean, failedOnly: boolean): Promise<MessageRecord> {
  const shown = (await client.history(chat, { limit: 1000 })).filter((m) => !m.notice && !m.deleted && (!failedOnly || isFailed(m)));
  if (prefix === "last") {
    const last = shown.filter((m) => (m.direction === "out") === own).at(-1);
    if (!last) throw new MessageUsageError(`There is no message ${failedOnly ? "of yours that failed to send" : own ? "of yours" : "to you"} in ${chat}${failedOnly ? "" : " yet"}.`);
    return last;
  }
  const found = shown.filter((m) => m.id.startsWith(prefix));
  if (found.length === 0) {
    throw new MessageUsageError(`No message ${failedOnly ? "of yours that failed to send " : ""}of ${chat} has an id starting with "${prefix}" (${failedOnly ? "failed" : "read"} ${chat} shows them).`);
  }
  if (found.length > 1) throw new MessageUsageError(`Several messages' ids start with "${prefix}"; give more of it.`);
  return found[0]!;
}

/** Runs one of the commands above but `failed`; `words` follow the command name. What it queued goes out before it returns. */
export async function messageCommand(client: EmsgClient, command: string, words: string[], flags: Map<string, string>): Promise<void> {
  const [chat, prefix, ...rest] = words;
  if (!chat || !prefix) throw new MessageUsageError(`${command} needs a chat (an address or a group) and a message's id.`);
  await client.sync();
  const message = await pick(client, chat, prefix, command === "edit" || command === "delete" || command === "retry", command === "retry");
  let changed: MessageRecord;
  if (command === "reply") {
    if (rest.length === 0) throw new MessageUsageError("reply needs some text.");
    changed = await client.sendText(chat, rest.join(" "), { replyTo: message.id });
  } else if (command === "react") {
    if (rest.length !== 1) throw new MessageUsageError("react needs one emoji.");
    changed = await client.react(message.id, rest[0]!, flags.has("remove") ? "remove" : "add");
  } else if (command === "edit") {
    if (rest.length === 0) throw new MessageUsageError("edit needs the new text.");
    changed = await client.editMessage(message.id, rest.join(" "));
  } else if (command === "retry") {
    changed = await client.retryMessage(message.id);
  } else if (isFailed(message)) {
    // Nobody else has it: it goes from this device alone, as Delete on a failed message does in the apps.
    await client.deleteFailed(message.id);
    console.log(`Deleted ${shortId(message.id)} from this device; it never reached anyone.`);
    return;
  } else {
    changed = await client.deleteForEveryone(message.id);
  }
  const waiting = await client.flush();
  const [now] = (await client.history(chat, { limit: 1000 })).filter((m) => m.id === changed.id);
  console.log(waiting > 0 ? "Queued; it goes out when your server can be reached (run read or listen)." : formatMessage(now ?? changed, command === "reply" ? message : undefined));
}

/**
 * `failed [CHAT]`: your messages that failed to send, under their chat, each with why and whether
 * `retry` can send it again (else `delete` takes it away). Nothing is sent by listing them.
 */
export async function failedCommand(client: EmsgClient, chat: string | undefined): Promise<void> {
  await client.sync();
  const nameOf = await terminalNames(client);
  // A friend's chat by the address (its 1:1s and first messages shown as one), a group by its id.
  const chats = chat ? [chat] : [...new Set((await client.conversations()).map((c) => (c.kind === "group" ? c.conversation : (c.peer ?? c.conversation))))];
  let listed = 0;
  for (const each of chats) {
    // History that moved in with the account was the old account's, not this device's sends.
    const failed = (await client.history(each, { limit: 1000 })).filter((m) => isFailed(m) && !m.notice && !m.deleted && chatOfMoved(m.conversation) === undefined);
    if (failed.length === 0) continue;
    console.log(each.includes("/") ? each : nameOf(each as Address));
    for (const m of failed) {
      // The error is kept as its code (each client words it), or as the core's own sentence.
      const why = m.error === undefined ? "" : `${ERROR_SENTENCE[m.error as ErrorCode] ?? m.error} `;
      const next = (await client.canRetry(m.id)) ? `retry ${each} ${shortId(m.id)} sends it again.` : `It cannot be sent again; delete ${each} ${shortId(m.id)} takes it away.`;
      console.log(`  ${formatMessage(m, undefined, nameOf)}\n    ${why}${next}`);
    }
    listed += failed.length;
  }
  if (listed === 0) console.log(`No message of yours failed to send${chat ? ` in ${chat}` : ""}.`);
}
