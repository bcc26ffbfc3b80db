import { toB64u } from "../../shared/base64url.js";
import { decodeContent } from "../../shared/content.js";
import { countingB64u, errorCodeOf } from "./_fixed-keys.js";

export const name = "content";

const ID = countingB64u(16);
const OTHER = countingB64u(16, 16);
const AT = 1_760_000_000_000;
const utf8 = new TextEncoder();

const title = (t: string) => ({ v: 1, id: ID, sentAt: AT, type: "group", title: t });

/** Plaintexts of application messages (PROTOCOL §8.1), given as the JSON text a receiver decodes. */
const cases: { description: string; json: string }[] = [
  { description: "a text", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "text", text: "hello", replyTo: OTHER }) },
  { description: "a delivery receipt", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "receipt", of: [OTHER], state: "delivered" }) },
  { description: "a group's name", json: JSON.stringify(title("Trip to Lisbon")) },
  { description: "a group's name of 100 code points (astral ones count once)", json: JSON.stringify(title("\u{1F30D}".repeat(100))) },
  { description: "a group's name with an unknown member, which is dropped", json: JSON.stringify({ ...title("Trip"), "x-acme-color": "red" }) },
  { description: "leaving a group", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "leave" }) },
  { description: "an empty group name", json: JSON.stringify(title("")) },
  { description: "a group name of 101 code points", json: JSON.stringify(title("x".repeat(101))) },
  { description: "a group name not in NFC", json: JSON.stringify(title("Cafe\u0301")) },
  { description: "a group content without a title", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "group" }) },
  { description: "leaving, in content version 2", json: JSON.stringify({ v: 2, id: ID, sentAt: AT, type: "leave" }) },
  { description: "an unknown type", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "poll" }) },
  { description: "a read receipt", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "receipt", of: [OTHER], state: "read" }) },
  { description: "a reaction", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "reaction", of: OTHER, emoji: "\u{1F44D}", op: "add" }) },
  {
    description: "a reaction of one emoji of several code points (a family, joined by ZWJ)",
    json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "reaction", of: OTHER, emoji: "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}", op: "add" }),
  },
  { description: "a reaction taken back", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "reaction", of: OTHER, emoji: "\u2764", op: "remove" }) },
  { description: "a reaction of two emoji", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "reaction", of: OTHER, emoji: "\u{1F44D}\u{1F44D}", op: "add" }) },
  { description: "a reaction with no op", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "reaction", of: OTHER, emoji: "\u{1F44D}" }) },
  { description: "an edit", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "edit", of: OTHER, text: "hello again" }) },
  { description: "an edit with empty text", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "edit", of: OTHER, text: "" }) },
  { description: "an edit naming no message", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "edit", text: "hello" }) },
  { description: "a delete for everyone", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "delete", of: OTHER }) },
  { description: "a delete naming a bad id", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "delete", of: "short" }) },
  { description: "typing", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "typing", state: "typing" }) },
  { description: "typing stopped", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "typing", state: "stopped" }) },
  { description: "typing in an unknown state", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "typing", state: "thinking" }) },
  { description: "a chat's timer: messages disappear after 1 day", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer", days: 1 }) },
  { description: "a chat's timer: kept forever", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer", days: null }) },
  { description: "a chat's timer taken off: each device's own setting", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer" }) },
  { description: "a chat's timer of 0 days", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer", days: 0 }) },
  { description: "a chat's timer of 1.5 days", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer", days: 1.5 }) },
  { description: "a chat's timer of 3651 days", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "timer", days: 3651 }) },
  { description: "a text carrying its chat's timer", json: JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "text", text: "gone tomorrow", expiresAt: AT + 86_400_000 }) },
  // §8.1: the plaintext need not be JCS; the version must be the integer 1.
  { description: "a text not in JCS (spaces, members unsorted, escapes), read as any JSON", json: `{ "type": "text", "text": "h\\u00e9llo", "sentAt": ${AT}, "id": "${ID}", "v": 1.0 }` },
  { description: "leaving, with a byte order mark before the JSON, which a reader ignores (RFC 8259 §8.1)", json: `\uFEFF${JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "leave" })}` },
  { description: "leaving, without a version", json: JSON.stringify({ id: ID, sentAt: AT, type: "leave" }) },
  { description: "leaving, in content version \"1\" (a string)", json: JSON.stringify({ v: "1", id: ID, sentAt: AT, type: "leave" }) },
  { description: "leaving, in content version 1.5", json: JSON.stringify({ v: 1.5, id: ID, sentAt: AT, type: "leave" }) },
  { description: "two JSON texts", json: `${JSON.stringify({ v: 1, id: ID, sentAt: AT, type: "leave" })} {}` },
];

export async function make() {
  return {
    description:
      "Message content (PROTOCOL §8.1): decoding `plaintext` (b64u of the UTF-8 bytes) gives `content` when `error` is null, " +
      "else it is refused with that code.",
    cases: cases.map(({ description, json }) => {
      const bytes = utf8.encode(json);
      let content: unknown = null;
      const error = errorCodeOf(() => (content = decodeContent(bytes)));
      return { description, plaintext: toB64u(bytes), content, error };
    }),
  };
}
