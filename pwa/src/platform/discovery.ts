import type { Database } from "./database.js";

/**
 * The domain this copy of the PWA belongs to, from the same origin's discovery document.
 * Remembered so the app still opens, with local history, when the server cannot be reached.
 */
export async function discoverDomain(db: Database, origin: string): Promise<string | null> {
  try {
    const response = await fetch(`${origin}/.well-known/emsg`, { cache: "no-store" });
    const doc = (await response.json()) as { domain?: unknown };
    if (typeof doc.domain === "string") {
      await db.put("prefs", doc.domain, "domain");
      return doc.domain;
    }
  } catch {
    // Offline or not served: fall back to the remembered domain below.
  }
  return (await db.get("prefs", "domain")) ?? null;
}
