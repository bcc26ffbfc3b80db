import type { DevDomain, RunningDomains } from "./dev-servers.mjs";

export function startWorkerdDomains(options: {
  domains: DevDomain[];
  persistRoot: string;
  onLine?: (domain: DevDomain, line: string) => void;
  timeoutMs?: number;
  extraResolve?: Record<string, string>;
}): Promise<RunningDomains>;
