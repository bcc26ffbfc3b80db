import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchWithExtension, serveHttp, type LoadedExtension, type Served } from "./extension-harness.js";

// A page that tries hard to break inline UI: global resets, hidden buttons, editable fields.
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contact page</title>
<style>* { all: unset; } button { display: none !important; } emsg-add-friend { display: none; } p { color: red; }</style></head>
<body>
<p id="prose">Write to Alice#IM.Example.com when you are back.</p>
<p>请加我 bob＃im.example.org 为好友，谢谢</p>
<p>Not addresses: mail carol@example.com, see https://x.com/page#section, tags #emsg #2026, colour #fff, repo#123.</p>
<p><a href="/elsewhere" id="link">dan#im.d.io</a></p>
<textarea>erin#im.e.net</textarea><div contenteditable="true">frank#im.f.net</div>
<pre>grace#im.g.net</pre><code>heidi#im.h.net</code><script>const s = "ivan#im.i.net";</script>
<div id="later"></div>
<script>setTimeout(() => { document.getElementById("later").textContent = "Added later: judy#im.j.org"; }, 300);</script>
</body></html>`;

describe("the extension on an ordinary web page", () => {
  let ext: LoadedExtension;
  let site: Served;

  beforeAll(async () => {
    site = await serveHttp((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(req.url === "/" ? PAGE : "<p>elsewhere</p>");
    });
    ext = await launchWithExtension();
  }, 60_000);

  afterAll(async () => {
    await ext?.close();
    await site?.close();
  });

  it("puts an accessible Add-as-EMSG-friend button after each address a reader sees, and nowhere else", async () => {
    const page = await ext.context.newPage();
    await page.goto(site.origin);
    for (const address of ["alice#im.example.com", "bob#im.example.org", "dan#im.d.io", "judy#im.j.org"]) {
      await expect.poll(() => page.getByRole("button", { name: `Add ${address} as EMSG friend` }).count(), { timeout: 10_000 }).toBe(1);
    }
    const annotated = await page.locator("emsg-add-friend").evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.address));
    expect(annotated.sort()).toEqual(["alice#im.example.com", "bob#im.example.org", "dan#im.d.io", "judy#im.j.org"]);
    // The page's text is unchanged around the button; the link still holds only its own text.
    expect(await page.locator("#prose").innerText()).toContain("Write to Alice#IM.Example.com");
    expect(await page.locator("#link").evaluate((a) => a.textContent)).toBe("dan#im.d.io");
    await page.close();
  });

  it("adds the friend through the background when clicked, and the popup lists them", async () => {
    const page = await ext.context.newPage();
    await page.goto(site.origin);
    await page.getByRole("button", { name: "Add dan#im.d.io as EMSG friend" }).click();
    // Its accessible name now says what happened, so find it by its place instead.
    const button = page.locator('emsg-add-friend[data-address="dan#im.d.io"]').getByRole("button");
    await expect.poll(() => button.getAttribute("aria-label")).toBe("dan#im.d.io: Will be added once EMSG is set up");
    // The button sits outside the link, and clicking it did not follow the link.
    expect(new URL(page.url()).pathname).toBe("/");
    const synthetic = await page.evaluate(() => {
      const host = document.querySelector('emsg-add-friend[data-address="alice#im.example.com"]')!;
      host.shadowRoot!.querySelector("button")!.click();
      return new Promise<string>((done) => setTimeout(() => done(host.shadowRoot!.querySelector("button")!.textContent!), 300));
    });
    expect(synthetic).toBe("+ EMSG");
    const popup = await ext.context.newPage();
    await popup.goto(`chrome-extension://${ext.id}/popup.html`);
    // Not set up yet: the popup offers to create an address and shows who waits to be added.
    const waiting = popup.getByRole("region", { name: "Waiting to be added" });
    await expect.poll(() => waiting.innerText()).toContain("dan#im.d.io");
    expect(await waiting.innerText()).not.toContain("alice");
    expect(await popup.getByRole("button", { name: "Create my address" }).isVisible()).toBe(true);
    await popup.close();
    await page.close();
  });
});
