import type { LaunchOptions, RunningDomains } from "./dev-servers.mjs";

export function bundleWorkerInto(out: string): void;
export function startWorkerdDomains(options: LaunchOptions & { bundle?: string; logRequests?: boolean; assets?: boolean }): Promise<RunningDomains>;
