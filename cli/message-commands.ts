// `reply`, `react`, `edit` and `delete`: acting on a message shown by `read`, named by the start of its id (PROTOCOL §8.1).
import type { EmsgClient } from "../shared/client/client.js";
import type { MessageRecord } from "../shared/client/messages.js";
import { formatMessage } from "./format.js";

export const MESSAGE_USAGE = `  reply ADDRESS|GROUP ID TEXT…                        answer a message (ID: its first letters as read shows them,
                                                      or last: the latest to you; for edit and delete, yours)
  react ADDRESS|GROUP ID EMOJI [--remove]             react to a message, or take the reaction back
  edit ADDRESS|GROUP ID TEXT…                         change the words of your message, for everyone
  delete ADDRESS|GROUP ID                             delete your message for everyone`;

export class MessageUsageError extends Error {}

/**
 * The message of the chat whose id starts with `prefix` (exactly one must), or for `last` the latest
 * one that the command can act on: your own for edit and delete, the other side's for reply and react.
 */
async function pick(client: EmsgClient, chat: string, prefix: string, own: boolean): Promise<MessageRecord> {
  const shown = (await client.history(chat, { limit: 1000 })).filter((m) => !m.notice && !m.deleted);
  if (prefix === "last") {
    const last = shown.filter((m) => (m.direction === "out") === own).at(-1);
    if (!last) throw new MessageUsageError(`There is no message ${own ? "of yours" : "to you"} in ${chat} yet.`);
    return last;
  }
  const found = shown.filter((m) => m.id.startsWith(prefix));
  if (found.length === 0) throw new MessageUsageError(`No message of ${chat} has an id starting with "${prefix}" (read ${chat} shows them).`);
  if (found.length > 1) throw new MessageUsageError(`Several messages' ids start with "${prefix}"; give more of it.`);
  return found[0]!;
}

/** Runs one of the commands above; `words` follow the command name. What it queued goes out before it returns. */
export async function messageCommand(client: EmsgClient, command: string, words: string[], flags: Map<string, string>): Promise<void> {
  const [chat, prefix, ...rest] = words;
  if (!chat || !prefix) throw new MessageUsageError(`${command} needs a chat (an address or a group) and a message's id.`);
  await client.sync();
  const message = await pick(client, chat, prefix, command === "edit" || command === "delete");
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
  } else {
    changed = await client.deleteForEveryone(message.id);
  }
  const waiting = await client.flush();
  const [now] = (await client.history(chat, { limit: 1000 })).filter((m) => m.id === changed.id);
  console.log(waiting > 0 ? "Queued; it goes out when your server can be reached (run read or listen)." : formatMessage(now ?? changed, command === "reply" ? message : undefined));
}
