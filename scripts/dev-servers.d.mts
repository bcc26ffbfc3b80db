export interface DevDomain {
  name: string;
  domain: string;
  port: number;
  inspectorPort: number;
}

export interface RunningDomains {
  resolve: string;
  origins: Record<string, string>;
  stop(domain: string, options?: { hard?: boolean }): Promise<void>;
  restart(domain: string): Promise<void>;
  stopAll(): Promise<unknown>;
}

export function ensureFree(port: number): Promise<void>;
export function waitReady(origin: string, timeoutMs: number, failed?: () => string | undefined): Promise<void>;
export function launch(
  domains: DevDomain[],
  resolve: string,
  hooks: { start(domain: DevDomain): Promise<void>; stop(domain: string, options?: { hard?: boolean }): Promise<void> },
): Promise<RunningDomains>;
export function resolverMap(domains: DevDomain[], extra?: Record<string, string>): string;
export interface LaunchOptions {
  domains: DevDomain[];
  persistRoot: string;
  onLine?: (domain: DevDomain, line: string) => void;
  timeoutMs?: number;
  extraResolve?: Record<string, string>;
}
export function startDomains(
  options: LaunchOptions & {
    /** true: with wrangler's local trace store and data explorer (wrangler's own default; ours is false). */
    traceStore?: boolean;
    /** The PWA's build to serve, instead of wrangler.toml's dist/pwa. */
    assets?: string;
  },
): Promise<RunningDomains>;
export function twoDomains(base?: number, inspectorBase?: number): DevDomain[];
