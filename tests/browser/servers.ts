import { inject } from "vitest";
import { type RunningDomains, twoDomains } from "../../scripts/dev-servers.mjs";
import { startWorkerdDomains } from "../../scripts/workerd-servers.mjs";
import { rememberServer } from "./failure-log.js";

/**
 * im.alice.test and im.bob.test on `portBase` and the port after it, storage under `persistRoot`:
 * each the bundled Worker with the PWA's build as its assets, in a workerd of its own (as a
 * deployment serves them, without `wrangler dev`'s reloading proxy), their output kept for the
 * failure log.
 */
export function startServers(portBase: number, inspectorBase: number, persistRoot: string): Promise<RunningDomains> {
  return startWorkerdDomains({ domains: twoDomains(portBase, inspectorBase), persistRoot, bundle: inject("workerBundle"), assets: true, onLine: rememberServer });
}
