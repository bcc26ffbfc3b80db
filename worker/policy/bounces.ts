import { domainOf, type Address, type Domain } from "../../shared/address.js";
import { parseConversationRef } from "../../shared/wire/conversation.js";

/**
 * Who may tell a local user that something did not arrive (PROTOCOL §7 `bounce`): only the domain
 * that was asked. That is the domain of `to`, the address not reached, or, for a conversation
 * item, the conversation's hub, which refuses submissions and fans out to third domains. Anyone
 * else's bounce would let a peer cancel a user's friend request to a third domain. Pure.
 */
export function mayBounce(peer: Domain, to: Address, conversation: string | undefined): boolean {
  if (domainOf(to) === peer) return true;
  return conversation !== undefined && parseConversationRef(conversation).hub === peer;
}
