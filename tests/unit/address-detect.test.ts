import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { findAddresses } from "../../shared/address-detect.js";
import { parseAddress } from "../../shared/address.js";

function found(text: string): string[] {
  return findAddresses(text).map((f) => f.address);
}

// An "xn--" label is an A-label only when its punycode decodes ("xn--a" does not): those are the bücher case's.
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/).filter((l) => !l.startsWith("xn--"));
const tld = fc.stringMatching(/^[a-z]{2,6}$/);
const host = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld).map(([ls, t]) => [...ls, t].join("."));
const name = fc.stringMatching(/^[a-z0-9](?:[._-]?[a-z0-9]){0,12}$/);
const address = fc.tuple(name, host).map(([n, h]) => `${n}#${h}`);
// What may stand right before or after an address in running text, in several languages.
const before = fc.constantFrom("", " ", "\n", "(", "«", "\"", "'", "，", "：", "请加我", "联系", "Mail ", "— ", "\t");
const after = fc.constantFrom("", " ", "\n", ".", ",", ";", "!", "?", ")", "»", "\"", "。", "，", "！", "吧", "谢谢", ": ", "...", "?!", " :)");

describe("finding addresses in text", () => {
  it("finds an address in running English text with its range", () => {
    const text = "Write to alice#im.example.com when you are back.";
    expect(findAddresses(text)).toEqual([{ address: "alice#im.example.com", start: 9, end: 29 }]);
  });

  it("finds addresses in Chinese text, also with a full-width ＃ and full-width dots", () => {
    expect(found("请加我alice#im.example.com为好友，谢谢")).toEqual(["alice#im.example.com"]);
    expect(found("我的地址是：bob＃im.example.com。")).toEqual(["bob#im.example.com"]);
    expect(found("ｃａｒｏｌ＃ｉｍ．ｅｘａｍｐｌｅ．ｃｏｍ")).toEqual(["carol#im.example.com"]);
  });

  it("finds addresses at line ends and beside punctuation", () => {
    expect(found("one\nalice#im.a.com\nbob#im.b.org")).toEqual(["alice#im.a.com", "bob#im.b.org"]);
    expect(found("(alice#im.a.com), bob#im.b.org. Is it carol#im.c.net? Yes: dan#im.d.io!")).toEqual([
      "alice#im.a.com",
      "bob#im.b.org",
      "carol#im.c.net",
      "dan#im.d.io",
    ]);
    expect(found("Write to: eve#im.e.com: she answers")).toEqual(["eve#im.e.com"]);
  });

  it("normalizes case and international server names, and keeps an emsg: prefix in the range", () => {
    expect(found("Alice#IM.Example.COM")).toEqual(["alice#im.example.com"]);
    expect(found("jo#im.bücher.de")).toEqual(["jo#im.xn--bcher-kva.de"]);
    const text = "link emsg:bob#im.b.org here";
    expect(findAddresses(text)).toEqual([{ address: "bob#im.b.org", start: 5, end: 22 }]);
  });

  it.each([
    ["an e-mail address", "mail alice@example.com or bob@im.example.com"],
    ["a URL with a fragment", "see https://x.com/page#section and https://x.com/a.html#part.two"],
    ["a hash route", "open example.com/#/route or example.com/#/a.b"],
    ["a query before a fragment", "https://x.com/?to=alice#im.example.com"],
    ["a fragment that continues a path", "x.com/docs#im.example.com/more"],
    ["hashtags", "#emsg #2026 #im.example.com"],
    ["CSS colours", "color: #fff; background:#00ff00; a#fff"],
    ["issue references", "fixed in repo#123 and org/repo#45, see emsg#7"],
    ["markdown headings", "# Title\n## Sub.title\n### 3.2 Details"],
    ["an address glued into an e-mail", "x alice#im.example.com@evil.com"],
    ["a port", "alice#im.example.com:8080"],
    ["a CSS pseudo-class", "a#im.example.com:hover { }"],
    ["a name glued to a word in another script", "élan#im.example.com"],
    ["two separators", "a#b.com#c.org"],
    ["an IP address", "alice#10.0.0.1"],
    ["a host without a dot", "alice#localhost"],
  ])("does not mistake %s for an address", (_what, text) => {
    expect(found(text)).toEqual([]);
  });

  it("finds any valid address in any surroundings, in normal form with its exact range", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(before, address, after), { minLength: 1, maxLength: 4 }), (parts) => {
        let text = "";
        const expected: { address: string; start: number; end: number }[] = [];
        for (const [b, a, c] of parts) {
          text += ` ${b}`;
          expected.push({ address: a, start: text.length, end: text.length + a.length });
          text += `${a}${c} `;
        }
        expect(findAddresses(text)).toEqual(expected);
      }),
    );
  });

  it("finds upper-case and full-width spellings too", () => {
    fc.assert(
      fc.property(address, before, after, (a, b, c) => {
        const shouted = a.toUpperCase().replace("#", "＃");
        expect(found(`${b}${shouted}${c}`)).toEqual([a]);
      }),
    );
  });

  it("never reports an e-mail address, URL fragment, hashtag, colour or issue reference", () => {
    const noise = fc.oneof(
      fc.tuple(name, host).map(([n, h]) => `${n}@${h}`),
      fc.tuple(host, fc.array(label, { maxLength: 3 }), fc.stringMatching(/^[a-z0-9._-]{0,20}$/)).map(
        ([h, path, frag]) => `https://${h}/${path.join("/")}#${frag}`,
      ),
      fc.tuple(host, fc.array(label, { maxLength: 3 })).map(([h, path]) => `${h}/#/${path.join("/")}`),
      fc.stringMatching(/^#[a-z0-9_]{1,20}$/),
      fc.stringMatching(/^#[0-9a-f]{3,8}$/),
      fc.tuple(label, fc.nat(99999)).map(([r, n]) => `${r}#${n}`),
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.stringMatching(/^[A-Za-z0-9 .]{1,30}$/)).map(([n, t]) => `${"#".repeat(n)} ${t}`),
    );
    fc.assert(
      fc.property(fc.array(noise, { minLength: 1, maxLength: 6 }), fc.constantFrom(" ", "\n", ", "), (items, sep) => {
        expect(found(items.join(sep))).toEqual([]);
      }),
    );
  });

  it("never throws, and every result is a valid address over the exact text it came from", () => {
    const chars = fc.constantFrom(..."ab1.-_#＃@/:?=é中 \n。".split(""));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 80 }).map((cs) => cs.join("")), (text) => {
        let last = 0;
        for (const f of findAddresses(text)) {
          expect(f.start).toBeGreaterThanOrEqual(last);
          expect(parseAddress(text.slice(f.start, f.end)).address).toBe(f.address);
          last = f.end;
        }
      }),
    );
  });

  it("stops after max results and stays fast on a huge hostile text", () => {
    const many = Array.from({ length: 50 }, (_, i) => `u${i}#im.example.com`).join(" ");
    expect(findAddresses(many, { max: 3 })).toHaveLength(3);
    const hostile = `${"a".repeat(200_000)}#${"b.".repeat(100_000)}` + "#a".repeat(100_000);
    const t0 = performance.now();
    expect(findAddresses(hostile)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
