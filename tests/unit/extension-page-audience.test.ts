import { describe, expect, it } from "vitest";
import { fromOwnPage, type Self } from "../../extension/background/requests.js";
import { PageAudience } from "../../extension/messaging/page-audience.js";

const SELF: Self = { id: "emsg-extension-id", origin: "chrome-extension://emsg-extension-id/" };
// What Chrome's runtime.sendMessage rejects with when no extension page has an onMessage listener.
const nobody = () => Promise.reject(new Error("Could not establish connection. Receiving end does not exist."));
const settle = () => new Promise((done) => setTimeout(done, 0));

/** The notices a PageAudience let through, and the failures it passed on. */
function recorder() {
  const sent: string[] = [];
  const failures: unknown[] = [];
  return { sent, failures, failed: (error: unknown) => failures.push(error) };
}

describe("the background's notices reach its pages only while one may listen", () => {
  it("sends nothing more once a notice found no page, and sends again once a page asks anything", async () => {
    const pages = new PageAudience();
    const { sent, failures, failed } = recorder();
    // A worker just started may be under an open page: its first notice goes out.
    pages.tell(() => (sent.push("first"), nobody()), failed);
    await settle();
    for (let n = 0; n < 1000; n++) pages.tell(() => (sent.push(`catch-up ${n}`), nobody()), failed);
    expect(sent).toEqual(["first"]);
    pages.pageSpoke();
    pages.tell(() => (sent.push("after the page opened"), Promise.resolve()), failed);
    await settle();
    expect(sent).toEqual(["first", "after the page opened"]);
    expect(pages.listening).toBe(true);
    expect(failures).toEqual([]);
  });

  it("a notice that found nobody before a page's request arrived does not silence that page", async () => {
    const pages = new PageAudience();
    const { sent, failed } = recorder();
    let answer!: (error: Error) => void;
    pages.tell(() => (sent.push("in flight"), new Promise((_, fail) => (answer = fail))), failed);
    // The page opens and asks while the broadcast is on its way back empty-handed.
    pages.pageSpoke();
    answer(new Error("Could not establish connection. Receiving end does not exist."));
    await settle();
    pages.tell(() => (sent.push("next"), Promise.resolve()), failed);
    expect(sent).toEqual(["in flight", "next"]);
  });

  it("any other failure is passed on and does not stop the notices", async () => {
    const pages = new PageAudience();
    const { sent, failures, failed } = recorder();
    const broken = new Error("Message length exceeded maximum allowed length.");
    pages.tell(() => (sent.push("too big"), Promise.reject(broken)), failed);
    await settle();
    pages.tell(() => (sent.push("next"), Promise.resolve()), failed);
    expect(failures).toEqual([broken]);
    expect(sent).toEqual(["too big", "next"]);
  });

  it("only the extension's own pages count as listening, not a content script or another extension", () => {
    expect(fromOwnPage({ id: SELF.id, url: `${SELF.origin}sidepanel.html` }, SELF)).toBe(true);
    expect(fromOwnPage({ id: SELF.id, url: `${SELF.origin}popup.html`, tab: { id: 3 } }, SELF)).toBe(true);
    expect(fromOwnPage({ id: SELF.id, url: "https://web.whatsapp.com/", tab: { id: 3 } }, SELF)).toBe(false);
    expect(fromOwnPage({ id: "another-extension", url: "chrome-extension://another-extension/page.html" }, SELF)).toBe(false);
    expect(fromOwnPage({ id: SELF.id }, SELF)).toBe(false);
  });
});
