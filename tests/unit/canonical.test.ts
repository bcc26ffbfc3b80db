import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { jcs, jcsBytes } from "../../shared/canonical.js";
import { EmsgError } from "../../shared/errors.js";

describe("canonical JSON (RFC 8785)", () => {
  it("sorts members by UTF-16 code units and drops insignificant space", () => {
    expect(jcs({ b: 1, a: [true, null, "x"], "\u20ac": 0, "\ud83d\ude00": 1, "\u00e9": 2 })).toBe(
      '{"a":[true,null,"x"],"b":1,"\u00e9":2,"\u20ac":0,"\ud83d\ude00":1}',
    );
  });

  it("writes numbers the way ECMAScript does (RFC 8785 §3.2.2.3 examples)", () => {
    expect(jcs([1e21, 1e-7, -0, 0.000001, 333333333.33333329, 1e23, 4.5])).toBe(
      "[1e+21,1e-7,0,0.000001,333333333.3333333,1e+23,4.5]",
    );
  });

  it("matches the RFC 8785 §3.2.3 sorting example", () => {
    const input = '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}';
    expect(jcs(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("matches the RFC 8785 §3.2.4 output example", () => {
    const input = String.raw`{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}`;
    expect(jcs(JSON.parse(input))).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it("escapes only what JSON requires", () => {
    expect(jcs("\u0000\u001f\"\\/\u2028")).toBe('"\\u0000\\u001f\\"\\\\/\u2028"');
  });

  it("gives UTF-8 bytes", () => {
    expect([...jcsBytes({ k: "é" })]).toEqual([...new TextEncoder().encode('{"k":"é"}')]);
  });

  it.each([
    ["NaN", NaN],
    ["Infinity", Infinity],
    ["a lone surrogate", "\ud800"],
    ["undefined", undefined],
  ])("refuses %s as bad_request", (_name, value) => {
    expect(() => jcs(value)).toThrow(EmsgError);
    try {
      jcs(value);
    } catch (e) {
      expect((e as EmsgError).code).toBe("bad_request");
    }
  });

  it("round-trips: parsing the canonical text and canonicalizing again gives the same text", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = jcs(value);
        expect(jcs(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("does not depend on member order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(jcs(reversed)).toBe(jcs(obj));
      }),
    );
  });
});
