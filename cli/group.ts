// `group …` commands: make and change groups over the client core (PROTOCOL §12).
import type { EmsgClient } from "../shared/client/client.js";

export const GROUP_USAGE = `  group create TITLE ADDRESS ADDRESS…                 make a group with friends; prints its id
  group add|remove GROUP ADDRESS…                     add friends to a group, or remove members
  group rename GROUP TITLE…                           rename a group
  group leave GROUP                                   leave a group (its history stays here)`;

export class GroupUsageError extends Error {}

/** Runs one group command; `words` are what follows `group`. Queued messages (the name) go out before it returns. */
export async function groupCommand(client: EmsgClient, words: string[]): Promise<void> {
  const [verb, target, ...rest] = words;
  if (!verb || !target) throw new GroupUsageError("group needs what to do and a group (or, for create, a title).");
  await client.sync();
  switch (verb) {
    case "create": {
      if (rest.length < 2) throw new GroupUsageError("group create needs a title and at least two friends' addresses.");
      const group = await client.createGroup(target, rest);
      await client.flush();
      console.log(`Created "${group.title}" (${group.conversation}) with ${group.members.filter((m) => m !== client.address).join(", ")}.`);
      return;
    }
    case "add":
    case "remove": {
      if (rest.length === 0) throw new GroupUsageError(`group ${verb} needs at least one address.`);
      if (verb === "add") await client.addToGroup(target, rest);
      else await client.removeFromGroup(target, rest);
      await client.flush();
      console.log(`${verb === "add" ? "Added" : "Removed"} ${rest.join(", ")}.`);
      return;
    }
    case "rename": {
      if (rest.length === 0) throw new GroupUsageError("group rename needs the new title.");
      await client.renameGroup(target, rest.join(" "));
      await client.flush();
      console.log(`Renamed to "${rest.join(" ")}".`);
      return;
    }
    case "leave":
      await client.leaveGroup(target);
      await client.flush();
      console.log("You left the group; its history stays on this device.");
      return;
    default:
      throw new GroupUsageError(`Unknown group command "${verb}".`);
  }
}
