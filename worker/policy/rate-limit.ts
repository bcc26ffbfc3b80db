/** Token buckets (pure): `burst` tokens, refilled at `perSecond`. */
export interface RateRule {
  burst: number;
  perSecond: number;
}

// A type, not an interface: it is read straight from SQLite rows (sql.exec<Bucket>).
export type Bucket = {
  tokens: number;
  at: number;
};

/** `discovery`: per client IP, the requests that may make this server fetch a peer's discovery document. */
export type RateScope = "account" | "ip" | "peer" | "discovery";
export type RateRules = Record<RateScope, RateRule>;

export const DEFAULT_RATES: RateRules = {
  account: { burst: 600, perSecond: 50 },
  ip: { burst: 2000, perSecond: 200 },
  peer: { burst: 20000, perSecond: 2000 },
  discovery: { burst: 60, perSecond: 1 },
};

export interface Take {
  bucket: Bucket;
  allowed: boolean;
  retryAfterSeconds: number;
}

export function takeToken(bucket: Bucket | undefined, rule: RateRule, now: number): Take {
  const start = bucket ?? { tokens: rule.burst, at: now };
  const tokens = Math.min(rule.burst, start.tokens + (Math.max(0, now - start.at) / 1000) * rule.perSecond);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, allowed: true, retryAfterSeconds: 0 };
  return { bucket: { tokens, at: now }, allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rule.perSecond)) };
}

/** `EMSG_RATE="account=600:50,ip=2000:200,peer=20000:2000,discovery=60:1"` (burst:perSecond); unnamed scopes keep defaults. */
export function parseRateRules(text: string | undefined): RateRules {
  const rules: RateRules = { ...DEFAULT_RATES };
  if (!text) return rules;
  for (const part of text.split(",")) {
    const m = /^\s*(account|ip|peer|discovery)=(\d+):(\d+(?:\.\d+)?)\s*$/.exec(part);
    if (!m) throw new Error(`EMSG_RATE: cannot read "${part}"; expected scope=burst:perSecond.`);
    rules[m[1] as RateScope] = { burst: Number(m[2]), perSecond: Number(m[3]) };
  }
  return rules;
}
