import { join } from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { serveHttp, type Served } from "./extension-harness.js";
import { launchChromium, ROOT } from "./pwa-harness.js";

/** A Chromium page on loopback with the extension's store (extension-store-page.ts) loaded as `lib`. */
export interface StorePage {
  page: Page;
  close(): Promise<void>;
}

export async function openStorePage(): Promise<StorePage> {
  const bundle = await build({ entryPoints: [join(ROOT, "tests/browser/extension-store-page.ts")], bundle: true, format: "iife", globalName: "lib", write: false });
  const script = bundle.outputFiles[0]!.text;
  const served: Served = await serveHttp((req, res) => {
    if (req.url === "/lib.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><script src="/lib.js"></script>');
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(served.origin);
    const opened = browser;
    return {
      page,
      close: async () => {
        await opened.close();
        await served.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await served.close();
    throw error;
  }
}
