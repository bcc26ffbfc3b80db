import type { LaunchOptions, RunningDomains } from "./dev-servers.mjs";

export function startWorkerdDomains(options: LaunchOptions): Promise<RunningDomains>;
