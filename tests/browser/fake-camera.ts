// A fake camera for Chromium: a Y4M file it plays in a loop (--use-file-for-fake-video-capture),
// showing a QR code, so a test can scan a code the way a person holds a phone up to a screen.
import { writeFileSync } from "node:fs";
import type { Locator } from "playwright-core";
import { encode } from "uqr";

const WIDTH = 640;
const HEIGHT = 480;

export const fakeCameraArgs = (file: string) => ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", `--use-file-for-fake-video-capture=${file}`];

/** Writes a one-frame 4:2:0 Y4M of a square grayscale image (0 black … 255 white) centred on white. */
export function writeY4m(file: string, gray: Uint8Array, side: number): void {
  const y = new Uint8Array(WIDTH * HEIGHT).fill(255);
  const left = (WIDTH - side) >> 1;
  const top = (HEIGHT - side) >> 1;
  for (let row = 0; row < side; row++) y.set(gray.subarray(row * side, (row + 1) * side), (top + row) * WIDTH + left);
  const chroma = new Uint8Array((WIDTH / 2) * (HEIGHT / 2)).fill(128);
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\nFRAME\n`);
  writeFileSync(file, Buffer.concat([header, y, chroma, chroma]));
}

/** A QR code of `text`, as the camera would see it on a screen. */
export function writeQrY4m(file: string, text: string): void {
  const { data } = encode(text, { ecc: "M", border: 2 });
  const modules = data.length;
  const scale = Math.floor(440 / modules);
  const side = modules * scale;
  const gray = new Uint8Array(side * side);
  for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) gray[r * side + c] = data[Math.floor(r / scale)]![Math.floor(c / scale)] ? 0 : 255;
  writeY4m(file, gray, side);
}

/** What a camera pointed at the QR code drawn as SVG inside `area` sees: `side` × `side` grayscale. */
export async function photographQr(area: Locator, side: number): Promise<Uint8Array> {
  const gray = await area.evaluate(async (element, side) => {
    const image = new Image();
    image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(element.querySelector("svg")!.outerHTML)}`;
    await image.decode();
    const canvas = Object.assign(document.createElement("canvas"), { width: side, height: side });
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, side, side);
    context.drawImage(image, 0, 0, side, side);
    const rgba = context.getImageData(0, 0, side, side).data;
    return Array.from({ length: side * side }, (_, i) => Math.round((rgba[4 * i]! + rgba[4 * i + 1]! + rgba[4 * i + 2]!) / 3));
  }, side);
  return Uint8Array.from(gray);
}
