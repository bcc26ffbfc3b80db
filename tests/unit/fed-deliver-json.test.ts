import { describe, expect, it } from "vitest";
import * as v from "valibot";
import { FedItemSchema } from "../../shared/wire/index.js";
import { parseFedItem } from "../../shared/wire/fed-deliver.js";

// parseFedItem's shortcut (8a63f5d) takes a federation item "as it came": here, as a rogue domain
// would write it in a signed batch's JSON text, with keys JSON.parse treats unusually (`__proto__`
// becomes an own key, a repeated key keeps its last value). The shortcut must answer as
// FedItemSchema does, and what it takes is then stored: re-serialised, it must be what was checked.

const ref = "im.evil.test/AAAAAAAAAAAAAAAAAAAAAA";
const payload = `"conversation":"${ref}","id":"AAAAAAAAAAAAAAAAAAAAAQ","hubSeq":7,"from":"mallory#im.evil.test","deviceId":"AAAAAAAAAAAAAAAAAAAAAg","epoch":1,"type":"application","mls":"AAEC","at":1`;
const deliver = (item: string, extra = "") => `{"id":"AAAAAAAAAAAAAAAAAAAAAA","kind":"conv_deliver","conversation":"${ref}","to":["bob#im.bob.test"],"item":{${item}}${extra}}`;

const texts: Array<[string, string]> = [
  ["plain", deliver(payload)],
  ["__proto__ on the item", deliver(payload, `,"__proto__":{"answered":true}`)],
  ["__proto__ on the payload", deliver(`${payload},"__proto__":{"members":["mallory#im.evil.test"]}`)],
  ["__proto__ null", deliver(payload, `,"__proto__":null`)],
  ["a repeated type, the last a commit", deliver(`${payload},"type":"commit"`)],
  ["a repeated type, the last an application", deliver(`"type":"commit",${payload}`)],
  ["a repeated hubSeq, the last out of range", deliver(`${payload},"hubSeq":-1`)],
  ["a repeated to, the last empty", deliver(payload, `,"to":[]`)],
  ["constructor as a key", deliver(payload, `,"constructor":{"prototype":{}}`)],
  ["members smuggled in", deliver(`${payload},"members":["mallory#im.evil.test"]`)],
  ["hubSeq written 7.0", deliver(payload.replace('"hubSeq":7', '"hubSeq":7.0'))],
  ["hubSeq written 7e0", deliver(payload.replace('"hubSeq":7', '"hubSeq":7e0'))],
  ["epoch -0", deliver(payload.replace('"epoch":1', '"epoch":-0'))],
  ["at 2^53", deliver(payload.replace('"at":1', '"at":9007199254740992'))],
  ["mls padded", deliver(payload.replace('"mls":"AAEC"', '"mls":"AAE="'))],
  ["mls with a non-zero tail", deliver(payload.replace('"mls":"AAEC"', '"mls":"AAF"'))],
  ["an escaped address", deliver(payload.replace('"from":"mallory#im.evil.test"', '"from":"mallory\\u0023im.evil.test"'))],
  ["a NUL in the address", deliver(payload.replace('"from":"mallory#im.evil.test"', '"from":"mallory\\u0000#im.evil.test"'))],
  ["answered false", deliver(payload, `,"answered":false`)],
  ["answered null", deliver(payload, `,"answered":null`)],
];

describe("parseFedItem on a rogue domain's JSON text", () => {
  it.each(texts)("%s: answered as FedItemSchema answers, and taken as checked", (_name, text) => {
    const fast = parseFedItem(JSON.parse(text));
    const reference = v.safeParse(FedItemSchema, JSON.parse(text));
    expect(fast.success).toBe(reference.success);
    if (!fast.success || !reference.success) return;
    // What is stored is the item taken, serialised: the schema's output, key for key, nothing beside it.
    expect(JSON.parse(JSON.stringify(fast.output))).toStrictEqual(JSON.parse(JSON.stringify(reference.output)));
    expect(Object.getPrototypeOf(fast.output)).toBe(Object.prototype);
    expect(Object.getPrototypeOf((fast.output as { item: object }).item)).toBe(Object.prototype);
  });
});
