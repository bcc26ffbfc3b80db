// A device reads no more of a blob's answer than the range it asked for (PROTOCOL §15.3), whatever
// its server sends: here a loopback server that floods every range, over the CLI's real transport.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport } from "../../cli/node-transport.js";
import { asDomain } from "../../shared/address.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { buildDiscoveryDoc, WELL_KNOWN_PATH } from "../../shared/discovery.js";
import { generateKeyPair, keyIdOf } from "../../shared/identity.js";

const DOMAIN = asDomain("im.flood.test");
const RANGE = 1_048_576;
const ENDLESS = 256 * 1_048_576;
const key = generateKeyPair();
const doc = buildDiscoveryDoc({ domain: DOMAIN, keys: [{ kid: keyIdOf(key.publicKey), key: key.publicKey }], software: "flood/1" });

/** Each blob answer: bytes written, and whether the reader hung up before the end. */
const answers: { written: number; cut: boolean }[] = [];
/** The status the flood answers ranges with: 206, or 200 as a server that ignores Range. */
let status = 206;
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === WELL_KNOWN_PATH) return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
    const answer = { written: 0, cut: false };
    answers.push(answer);
    res.writeHead(status, { "content-type": "application/octet-stream" });
    const chunk = new Uint8Array(65_536).map((_, i) => i % 251);
    res.on("close", () => (answer.cut = answer.written < ENDLESS));
    const more = () => {
      while (answer.written < ENDLESS && !res.destroyed) {
        answer.written += chunk.byteLength;
        if (!res.write(chunk)) return void res.once("drain", more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

async function cutOff(n: number): Promise<void> {
  for (let i = 0; i < 200 && !answers[n]?.cut; i++) await new Promise((r) => setTimeout(r, 10));
  expect(answers[n]?.cut).toBe(true);
}

describe("a blob range read by the client core", () => {
  it("takes exactly the range from a 206 that goes on for ever, and hangs up on the rest", async () => {
    status = 206;
    const bytes = await new ServerApi(nodeTransport, { now: () => Date.now() }, origin, DOMAIN).getBytes("/blobs/x", 0, RANGE - 1);
    expect(bytes.byteLength).toBe(RANGE);
    await cutOff(0);
    expect(answers[0]!.written).toBeLessThan(ENDLESS / 4);
  });

  it("takes the range's bytes out of a 200 that sends the blob from its start, reading no further than the range's end", async () => {
    status = 200;
    const bytes = await new ServerApi(nodeTransport, { now: () => Date.now() }, origin, DOMAIN).getBytes("/blobs/x", 3 * RANGE + 5, 4 * RANGE + 4);
    expect(bytes.byteLength).toBe(RANGE);
    // The flood's bytes run 0…250 over and over, so the range's first is its offset's.
    expect(bytes[0]).toBe(((3 * RANGE + 5) % 65_536) % 251);
    await cutOff(1);
    expect(answers[1]!.written).toBeLessThan(ENDLESS / 4);
  });
});
