import { EmsgError } from "../shared/errors.js";
import { errorResponse } from "./http.js";

export const DOWNLOADS_PATH = "/downloads/";

/**
 * The browser extension's packages, which `npm run build` puts among the static assets. Assets
 * answer any missing path with the app's index.html (single-page fallback); for a download that
 * would save an HTML page as a .zip, so only a real package is served and anything else is a 404.
 */
export async function serveDownload(request: Request, assets: Fetcher | undefined): Promise<Response> {
  const path = new URL(request.url).pathname;
  const missing = () => errorResponse(new EmsgError("not_found", `${path} is not on this server; the extension is built by npm run build.`));
  if (!assets || (request.method !== "GET" && request.method !== "HEAD")) return missing();
  const res = await assets.fetch(request);
  if (res.status === 304) return res;
  if (!res.ok || res.headers.get("content-type") !== "application/zip") {
    await res.body?.cancel();
    return missing();
  }
  return res;
}
