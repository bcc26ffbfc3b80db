import type { Address } from "../../shared/address.js";
import { EmsgError, isErrorCode } from "../../shared/errors.js";
import type { GroupClient } from "../../ui/view-models/group-model.js";
import type { NewGroupClient } from "../../ui/view-models/new-group-model.js";
import type { Reply } from "../messaging/messages.js";
import { ask } from "./panel-api.js";

/** A refused request as the error the view models expect from the core, keeping its sentence. */
export function answered<T>(reply: Reply<T>): T {
  if (reply.ok) return reply;
  throw new EmsgError(isErrorCode(reply.error) ? reply.error : "internal", reply.message);
}

/**
 * The shared group view models (ui/) work against the client core; here the core lives in the
 * background, so each call becomes a request to it. Nothing here holds keys or state.
 */
export function groupRequests(self: Address): GroupClient & NewGroupClient {
  return {
    address: self,
    friends: async () => answered(await ask({ type: "status" })).friends.map((f) => ({ ...f, address: f.address as Address, movedTo: f.movedTo as Address | undefined })),
    history: async (conversation, page) => answered(await ask({ type: "messages", chat: conversation, ...page })).messages,
    createGroup: async (title, members) => answered(await ask({ type: "create-group", title, members })).group,
    renameGroup: async (conversation, title) => void answered(await ask({ type: "rename-group", conversation, title })),
    addToGroup: async (conversation, members) => void answered(await ask({ type: "add-to-group", conversation, members })),
    removeFromGroup: async (conversation, members) => void answered(await ask({ type: "remove-from-group", conversation, members })),
    leaveGroup: async (conversation) => void answered(await ask({ type: "leave-group", conversation })),
  };
}
