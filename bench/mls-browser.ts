// `npx tsx bench/mls-browser.ts BEFORE [AFTER] [messages] [rounds]`: the CPU a Chromium page spends reading a
// 1:1's messages with each tree's own MLS code (shared/mls, its ts-mls), the trees taking turns. In the PWA there
// is no Node crypto: Ed25519 goes through WebCrypto, HMAC and ChaCha20-Poly1305 through pure JS, so what
// bench/mls-client.ts measures in Node says little about a catch-up's main cost (about half the page's CPU).
import { createServer } from "node:http";
import { resolve } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { CHROMIUM } from "./pwa-load.js";

const PORT = Number(process.env.EMSG_BENCH_MLS_BROWSER_PORT ?? 19603);

// The page: a 1:1 of two accounts, `n` texts encrypted ahead; `read()` joins from the Welcome and reads them all in order, as a catch-up does.
const PAGE = `
import { accountRecord } from "./shared/client/account.ts";
import { deviceIdentityOf } from "./shared/client/account-record.ts";
import { asAddress } from "./shared/address.ts";
import { encodeContent, newText } from "./shared/content.ts";
import { generateKeyPair } from "./shared/identity.ts";
import { randomId16 } from "./shared/ids.ts";
import { addMembers, createGroup, encrypt, joinFromWelcome } from "./shared/mls/group.ts";
import { makeKeyPackages } from "./shared/mls/keypackage.ts";
import { processMessage } from "./shared/mls/receive.ts";
const now = Date.now();
const person = (address) => accountRecord(asAddress(address), generateKeyPair(), generateKeyPair(), { label: "bench", origin: "http://127.0.0.1:9", now });
let sent;
window.prepare = async (n) => {
  const alice = person("alice#im.alice.test");
  const bob = person("bob#im.bob.test");
  const [bundle] = await makeKeyPackages(deviceIdentityOf(bob), 1, now);
  const added = await addMembers(await createGroup(deviceIdentityOf(alice), "im.alice.test/" + randomId16()), [bundle.keyPackage]);
  let state = added.state;
  const messages = [];
  for (let i = 0; i < n; i++) {
    const out = await encrypt(state, encodeContent(newText("text " + i, now)));
    state = out.state;
    messages.push(out.mls);
  }
  sent = { bob, bundle, welcome: added.welcome, messages };
};
window.join = async () => {
  window.joined = (await joinFromWelcome(deviceIdentityOf(sent.bob), sent.welcome, [sent.bundle])).state;
};
window.read = async () => {
  let state = window.joined;
  for (const mls of sent.messages) state = (await processMessage(state, mls, "application")).state;
};
`;

async function bundle(tree: string): Promise<string> {
  const out = await build({ stdin: { contents: PAGE, resolveDir: tree, loader: "ts" }, bundle: true, format: "esm", write: false, logLevel: "error", platform: "browser" });
  return out.outputFiles[0]!.text;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const [before, after = ".", messagesArg = "2000", roundsArg = "9"] = process.argv.slice(2);
  if (before === undefined) throw new Error("usage: bench/mls-browser.ts BEFORE_TREE [AFTER_TREE] [messages] [rounds]");
  const trees = [resolve(before), resolve(after)];
  const [messages, rounds] = [Number(messagesArg), Number(roundsArg)];
  const scripts = await Promise.all(trees.map(bundle));
  const server = createServer((request, response) => {
    const which = Number(request.url?.slice(1, 2));
    if (request.url?.endsWith(".js")) {
      response.writeHead(200, { "content-type": "text/javascript" }).end(scripts[which]);
      return;
    }
    response.writeHead(200, { "content-type": "text/html" }).end(`<script type="module" src="/${which}.js"></script>`);
  });
  await new Promise<void>((listening) => server.listen(PORT, "127.0.0.1", listening));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    // Each tree in a context of its own (a renderer process of its own), its messages encrypted before any timing.
    const pages = await Promise.all(trees.map(async (_, i) => {
      const page = await (await browser.newContext()).newPage();
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.goto(`http://127.0.0.1:${PORT}/${i}`);
      await page.waitForFunction(() => "prepare" in window);
      await page.evaluate(`window.prepare(${messages})`);
      const cpuSeconds = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ProcessTime")!.value;
      return { page, cpuSeconds };
    }));
    const cpuMs: number[][] = trees.map(() => []);
    for (let round = 0; round < rounds; round++) {
      // Taking turns, each first every other round, so a change in the machine's load falls on both.
      for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
        const { page, cpuSeconds } = pages[i]!;
        await page.evaluate("window.join()");
        const start = await cpuSeconds();
        await page.evaluate("window.read()");
        cpuMs[i]!.push(Math.round(((await cpuSeconds()) - start) * 1000));
      }
    }
    trees.forEach((tree, i) => {
      console.log(`${tree}: ${messages} messages read, page CPU ms per round ${cpuMs[i]!.join(", ")}; median ${median(cpuMs[i]!)} ms, ${((median(cpuMs[i]!) * 1000) / messages).toFixed(0)} µs a message`);
    });
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
