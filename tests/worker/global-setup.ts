import { mkdirSync } from "node:fs";

/** wrangler.toml serves the PWA from dist/pwa; a checkout that has not built it still tests the API. */
export default function setup(): void {
  mkdirSync("dist/pwa", { recursive: true });
}
