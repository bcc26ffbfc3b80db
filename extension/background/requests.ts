import * as v from "valibot";
import { parseAddress } from "../../shared/address.js";
import { EmsgError, ERROR_SENTENCE, isErrorCode } from "../../shared/errors.js";
import { RequestSchema, type Reply, type ReplyOf } from "../messaging/messages.js";
import type { ClientHost } from "./client-host.js";

export interface RequestContext {
  host: ClientHost;
  /** Opens the side panel (or Firefox sidebar, or a tab) for the tab that asked. */
  openPanel(tabId: number | undefined): Promise<"side-panel" | "sidebar" | "tab">;
}

export interface SenderInfo {
  /** The extension id of the sender; anything else is refused. */
  id?: string;
  tab?: { id?: number };
}

function failure(error: unknown): Reply<never> {
  if (error instanceof EmsgError) return { ok: false, error: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) return { ok: false, error: code, message: ERROR_SENTENCE[code] };
  return { ok: false, error: "internal", message: "EMSG could not do that; try again." };
}

/** Answers one message from a content script, the popup or the side panel. Never throws. */
export async function handleRequest(raw: unknown, sender: SenderInfo, ownId: string, ctx: RequestContext): Promise<ReplyOf[keyof ReplyOf]> {
  if (sender.id !== ownId) return { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." };
  const parsed = v.safeParse(RequestSchema, raw);
  if (!parsed.success) return { ok: false, error: "bad_request", message: "That request was not understood." };
  const request = parsed.output;
  try {
    switch (request.type) {
      case "add-friend": {
        const { address } = parseAddress(request.address);
        return { ok: true, address, state: await ctx.host.addFriend(address) };
      }
      case "open-panel":
        return { ok: true, opened: await ctx.openPanel(sender.tab?.id) };
      case "status":
        return { ok: true, account: await ctx.host.account(), friends: await ctx.host.friends() };
    }
  } catch (error) {
    return failure(error);
  }
}
