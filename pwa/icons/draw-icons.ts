/**
 * Draws the EMSG app icons (a white "#" on a calm teal tile) and writes them as PNG files
 * into pwa/public/icons. Run with `npx tsx pwa/icons/draw-icons.ts`; the PNGs are committed.
 */
import { deflateSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Rgba = [number, number, number, number];

const TOP: Rgba = [20, 150, 140, 255];
const BOTTOM: Rgba = [14, 98, 120, 255];
const INK: Rgba = [255, 255, 255, 255];

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encodePng(size: number, pixel: (x: number, y: number) => Rgba): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array())]);
}

/** Coverage of the "#" glyph at a point given in units of the icon (0..1), slanted like handwriting. */
function hashCoverage(u: number, v: number): boolean {
  const stroke = 0.075;
  const slant = (0.5 - v) * 0.12;
  const bars = [0.4, 0.6].some((c) => Math.abs(u - slant - c) < stroke / 2) && v > 0.27 && v < 0.73;
  const rungs = [0.42, 0.58].some((c) => Math.abs(v - c) < stroke / 2) && u > 0.28 && u < 0.72;
  return bars || rungs;
}

/** Samples 4×4 points per pixel so edges are smooth. `inset` shrinks the glyph for maskable icons. */
function drawIcon(size: number, rounded: boolean, inset: number): Buffer {
  const radius = rounded ? 0.22 : 0;
  return encodePng(size, (x, y) => {
    let tile = 0;
    let ink = 0;
    for (let sy = 0; sy < 4; sy++) {
      for (let sx = 0; sx < 4; sx++) {
        const u = (x + (sx + 0.5) / 4) / size;
        const v = (y + (sy + 0.5) / 4) / size;
        const dx = Math.max(radius - u, u - (1 - radius), 0);
        const dy = Math.max(radius - v, v - (1 - radius), 0);
        if (dx * dx + dy * dy > radius * radius) continue;
        tile++;
        if (hashCoverage(0.5 + (u - 0.5) / inset, 0.5 + (v - 0.5) / inset)) ink++;
      }
    }
    const t = y / size;
    const base = TOP.map((c, i) => Math.round(c + (BOTTOM[i]! - c) * t)) as Rgba;
    const mix = ink / Math.max(tile, 1);
    const rgb = base.map((c, i) => Math.round(c + (INK[i]! - c) * mix));
    return [rgb[0]!, rgb[1]!, rgb[2]!, Math.round((tile / 16) * 255)];
  });
}

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "icons");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "icon-192.png"), drawIcon(192, true, 1));
writeFileSync(join(out, "icon-512.png"), drawIcon(512, true, 1));
writeFileSync(join(out, "maskable-512.png"), drawIcon(512, false, 0.8));
writeFileSync(join(out, "apple-touch-icon.png"), drawIcon(180, false, 0.9));
writeFileSync(join(out, "favicon-32.png"), drawIcon(32, true, 1));
