import { toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { AVATAR_MAX_BYTES, AVATAR_MAX_SIDE, type Avatar } from "../../shared/profile.js";

const QUALITIES = [0.85, 0.72, 0.6, 0.45, 0.3];

/**
 * A picked picture as an avatar (PROTOCOL §8.2): cropped to its centre square, shrunk to at most
 * 256×256 and encoded as a JPEG small enough to travel inline. Done on this device: the picture
 * never leaves it at its own size.
 */
export async function avatarFromFile(file: Blob): Promise<Avatar> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new EmsgError("bad_request", "That file is not a picture this browser can read.");
  }
  const side = Math.min(bitmap.width, bitmap.height);
  const out = Math.min(AVATAR_MAX_SIDE, side);
  const canvas = document.createElement("canvas");
  canvas.width = out;
  canvas.height = out;
  const draw = canvas.getContext("2d")!;
  // JPEG has no transparency: what was transparent shows white rather than black.
  draw.fillStyle = "#fff";
  draw.fillRect(0, 0, out, out);
  draw.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, out, out);
  bitmap.close();
  for (const quality of QUALITIES) {
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size <= AVATAR_MAX_BYTES) return { mediaType: "image/jpeg", data: toB64u(new Uint8Array(await blob.arrayBuffer())) };
  }
  throw new EmsgError("too_large", "That picture stays too large for an avatar even shrunk.");
}
