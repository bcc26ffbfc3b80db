import { describe, expect, it } from "vitest";
import { fromOwnPage, type Self } from "../../extension/background/requests.js";
import { NOTICES_PER_MESSAGE, PageAudience } from "../../extension/messaging/page-audience.js";

const SELF: Self = { id: "emsg-extension-id", origin: "chrome-extension://emsg-extension-id/" };
// What Chrome's runtime.sendMessage rejects with when no extension page has an onMessage listener.
const NOBODY = () => new Error("Could not establish connection. Receiving end does not exist.");
const settle = () => new Promise((done) => setTimeout(done, 0));

/** A PageAudience whose messages land in `sent`, answered by `answer`, failures in `failures`. */
function audience(answer: (notices: string[]) => Promise<unknown>) {
  const sent: string[][] = [];
  const failures: unknown[] = [];
  const pages = new PageAudience<string>(
    (notices) => {
      sent.push(notices);
      return answer(notices);
    },
    (error) => failures.push(error),
  );
  return { pages, sent, failures };
}

describe("the background's notices reach its pages only while one may listen", () => {
  it("sends nothing more once a message found no page, and sends again once a page asks anything", async () => {
    let pageOpen = false;
    const { pages, sent, failures } = audience(() => (pageOpen ? Promise.resolve() : Promise.reject(NOBODY())));
    // A worker just started may be under an open page: its first message goes out.
    pages.tell("first");
    await settle();
    for (let n = 0; n < 1000; n++) pages.tell(`catch-up ${n}`);
    await settle();
    expect(sent).toEqual([["first"]]);
    expect(pages.listening).toBe(false);
    pageOpen = true;
    pages.pageSpoke();
    pages.tell("after the page opened");
    await settle();
    expect(sent).toEqual([["first"], ["after the page opened"]]);
    expect(pages.listening).toBe(true);
    expect(failures).toEqual([]);
  });

  it("a message that found nobody before a page's request arrived does not silence that page", async () => {
    let answer!: (error: Error) => void;
    const { pages, sent } = audience(() => new Promise((_, fail) => (answer = fail)));
    pages.tell("in flight");
    await settle();
    // The page opens and asks while the broadcast is on its way back empty-handed.
    pages.pageSpoke();
    answer(NOBODY());
    await settle();
    pages.tell("next");
    await settle();
    expect(sent).toEqual([["in flight"], ["next"]]);
  });

  it("one turn's notices go in one message, in order, at most NOTICES_PER_MESSAGE each, before the next turn's", async () => {
    const { pages, sent } = audience(() => Promise.resolve());
    const frame = Array.from({ length: 500 }, (_, n) => `message ${n}`);
    for (const notice of frame) pages.tell(notice);
    // What the background answers a request after telling its notices goes after them (a later microtask).
    const answered = Promise.resolve().then(() => sent.length);
    expect(await answered).toBe(Math.ceil(500 / NOTICES_PER_MESSAGE));
    pages.tell("next turn");
    await settle();
    expect(sent.flat()).toEqual([...frame, "next turn"]);
    expect(sent.every((notices) => notices.length <= NOTICES_PER_MESSAGE)).toBe(true);
  });

  it("any other failure is passed on and does not stop the notices", async () => {
    const broken = new Error("Message length exceeded maximum allowed length.");
    let first = true;
    const { pages, sent, failures } = audience(() => (first ? ((first = false), Promise.reject(broken)) : Promise.resolve()));
    pages.tell("too big");
    await settle();
    pages.tell("next");
    await settle();
    expect(failures).toEqual([broken]);
    expect(sent).toEqual([["too big"], ["next"]]);
  });

  it("only the extension's own pages count as listening, not a content script or another extension", () => {
    expect(fromOwnPage({ id: SELF.id, url: `${SELF.origin}sidepanel.html` }, SELF)).toBe(true);
    expect(fromOwnPage({ id: SELF.id, url: `${SELF.origin}popup.html`, tab: { id: 3 } }, SELF)).toBe(true);
    expect(fromOwnPage({ id: SELF.id, url: "https://web.whatsapp.com/", tab: { id: 3 } }, SELF)).toBe(false);
    expect(fromOwnPage({ id: "another-extension", url: "chrome-extension://another-extension/page.html" }, SELF)).toBe(false);
    expect(fromOwnPage({ id: SELF.id }, SELF)).toBe(false);
  });
});
