// A blob of another domain reaches a device through the device's own server (PROTOCOL §15.3). A
// rogue sender's server may answer a range with endless bytes: the reader's server passes on no
// more than the range asked for (the device's own cap: tests/unit/blob-range-read.test.ts).
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerOf } from "../../shared/client/account.js";
import { ServerApi } from "../../shared/client/server-api.js";
import type { Transport } from "../../shared/client/transport.js";
import { asDomain } from "../../shared/address.js";
import { randomId16 } from "../../shared/ids.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { until } from "./harness.js";
import { type RogueWorld, startRogueWorld } from "./rogue.js";

let world: RogueWorld;
/** Bytes the rogue wrote of each blob answer, and whether its reader hung up before it was done. */
const answers: { written: number; cut: boolean }[] = [];

const RANGE = 1_048_576;
const ENDLESS = 256 * 1_048_576;

/** Answers any blob range with up to 256 MiB of 206, as fast as its reader takes them. */
function flood(res: ServerResponse): void {
  const answer = { written: 0, cut: false };
  answers.push(answer);
  res.writeHead(206, { "content-type": "application/octet-stream", "content-range": `bytes 0-${RANGE - 1}/${ENDLESS}` });
  const chunk = new Uint8Array(65_536).fill(7);
  res.on("close", () => (answer.cut = answer.written < ENDLESS));
  const more = () => {
    while (answer.written < ENDLESS && !res.destroyed) {
      answer.written += chunk.byteLength;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
    res.end();
  };
  more();
}

/** Alice's own signed line to her server, reading bodies through `transport`. */
function aliceApi(transport: Transport): ServerApi {
  const api = new ServerApi(transport, { now: () => Date.now() }, world.pair.alice, asDomain("im.alice.test"));
  api.setSigner(signerOf(world.alice.account!));
  return api;
}

/** A transport that reads every body whole, as a device that trusted its server's answer would. */
const greedy: Transport = {
  async fetch(url, request) {
    const res = await fetch(url, { method: request.method, headers: request.headers });
    return { status: res.status, text: () => res.text(), bytes: async () => new Uint8Array(await res.arrayBuffer()) };
  },
  openSocket: (url) => nodeTransport.openSocket(url),
};

beforeAll(async () => {
  world = await startRogueWorld(19640, 20640, 19642);
  world.rogue.serveBlobs((_req, res) => flood(res));
}, 120_000);

afterAll(() => world?.stop());

describe("a rogue domain's blob", () => {
  it("reaches a device cut at the range it asked for, even one that reads all it is sent: its server passes on no more, and the rogue's flood is cancelled", async () => {
    const bytes = await aliceApi(greedy).getBytes(`/blobs/im.evil.test/${randomId16()}`, 0, RANGE - 1);
    expect(bytes.byteLength).toBe(RANGE);
    await until("the rogue's answer to be cut off", async () => answers[0]?.cut || undefined);
    expect(answers[0]!.written).toBeLessThan(ENDLESS / 4);
  });

});
