import { toB64u } from "../../shared/base64url.js";
import { decodeContent } from "../../shared/content.js";
import { nameSkeleton } from "../../shared/client/display-names.js";
import { countingB64u, errorCodeOf } from "./_fixed-keys.js";

export const name = "profiles";

const ID = countingB64u(16);
const SET = 1_760_000_000_000;
const SENT = SET + 60_000;
const utf8 = new TextEncoder();

// The smallest files of each type a receiver accepts: their signatures, padded to 12 bytes.
const PNG = toB64u(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
const JPEG = toB64u(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]));
const WEBP = toB64u(utf8.encode("RIFF\u0004\u0000\u0000\u0000WEBP"));

const profile = (extra: Record<string, unknown>) => ({ v: 1, id: ID, sentAt: SENT, type: "profile", name: "Alice", setAt: SET, ...extra });

/** Profile content (PROTOCOL §8.2), given as the JSON text a receiver decodes. */
const cases: { description: string; json: string }[] = [
  { description: "a name alone", json: JSON.stringify(profile({})) },
  { description: "a name with a PNG avatar", json: JSON.stringify(profile({ avatar: { mediaType: "image/png", data: PNG } })) },
  { description: "a JPEG avatar", json: JSON.stringify(profile({ avatar: { mediaType: "image/jpeg", data: JPEG } })) },
  { description: "a WebP avatar", json: JSON.stringify(profile({ avatar: { mediaType: "image/webp", data: WEBP } })) },
  { description: "a name of 64 code points (astral ones count once)", json: JSON.stringify(profile({ name: "\u{1F30D}".repeat(64) })) },
  { description: "a name in Chinese with a space", json: JSON.stringify(profile({ name: "张 伟" })) },
  { description: "sent again later with the setAt of when it was set", json: JSON.stringify(profile({ sentAt: SENT + 86_400_000 })) },
  { description: "an unknown member, which is dropped", json: JSON.stringify(profile({ "x-acme-pronouns": "she/her" })) },
  { description: "an empty name", json: JSON.stringify(profile({ name: "" })) },
  { description: "a name of 65 code points", json: JSON.stringify(profile({ name: "x".repeat(65) })) },
  { description: "a name not in NFC", json: JSON.stringify(profile({ name: "Zoe\u0308" })) },
  { description: "a name with a leading space", json: JSON.stringify(profile({ name: " Alice" })) },
  { description: "a name with a right-to-left override", json: JSON.stringify(profile({ name: "Alice\u202Egnp" })) },
  { description: "a name with a first strong isolate", json: JSON.stringify(profile({ name: "Ali\u2068ce" })) },
  { description: "a name with a line feed inside", json: JSON.stringify(profile({ name: "Ali\nce" })) },
  { description: "a name with a zero-width space", json: JSON.stringify(profile({ name: "Ali\u200Bce" })) },
  { description: "a name with a C1 control", json: JSON.stringify(profile({ name: "Ali\u0085ce" })) },
  { description: "no name", json: JSON.stringify({ v: 1, id: ID, sentAt: SENT, type: "profile", setAt: SET }) },
  { description: "set after it was sent", json: JSON.stringify(profile({ setAt: SENT + 1 })) },
  { description: "an SVG avatar", json: JSON.stringify(profile({ avatar: { mediaType: "image/svg+xml", data: PNG } })) },
  { description: "an avatar whose bytes are a JPEG, said to be a PNG", json: JSON.stringify(profile({ avatar: { mediaType: "image/png", data: JPEG } })) },
  { description: "an avatar of 24577 bytes", json: JSON.stringify(profile({ avatar: { mediaType: "image/jpeg", data: toB64u(new Uint8Array(24577).fill(0xff)) } })) },
  { description: "an avatar in padded base64", json: JSON.stringify(profile({ avatar: { mediaType: "image/png", data: `${PNG}==` } })) },
];

/** Names that read alike fold to one skeleton (PROTOCOL §8.2, showing names); a display must then show the address. */
const alike: [string, string][] = [
  ["Bob Builder", "bob builder"],
  ["Bob Builder", "Вob Вuilder"],
  ["Bob Builder", "B0b Bui1der"],
  ["Bob Builder", "Bob  Builder."],
  ["Bob Builder", "Bób Builder"],
  ["mallory", "ｍａｌｌｏｒｙ"],
  ["modern", "rnodern"],
  ["paypal", "Рaypal"],
];

export async function make() {
  return {
    description:
      "Profile content (PROTOCOL §8.2): decoding `plaintext` (b64u of the UTF-8 bytes) gives `content` when `error` is null, " +
      "else it is refused with that code. `alike`: pairs of names this implementation folds to the same `skeleton` " +
      "(another may fold more, never less of these).",
    cases: cases.map(({ description, json }) => {
      const bytes = utf8.encode(json);
      let content: unknown = null;
      const error = errorCodeOf(() => (content = decodeContent(bytes)));
      return { description, plaintext: toB64u(bytes), content, error };
    }),
    alike: alike.map(([a, b]) => ({ a, b, skeleton: nameSkeleton(a), same: nameSkeleton(a) === nameSkeleton(b) })),
  };
}
