import type { Env } from "./env.js";

/**
 * Calls each kind of Durable Object received, and how many of them its busiest single object got,
 * counted only when `EMSG_COUNT_CALLS=1` (the benchmark's servers): the check that no one object
 * sees every request (docs/scale.md). An RPC call or fetch through a stub counts once, and so does
 * a WebSocket frame an object reads. Counts live in this isolate: workerd runs a domain's Worker
 * and its objects in one.
 */
export type ObjectKind = "Account" | "Conversation" | "Outbox" | "Server" | "Gate";

const calls = new Map<ObjectKind, Map<string, number>>();

export function counting(env: Env): boolean {
  return env.EMSG_COUNT_CALLS === "1";
}

/** One call to the object `id` (its hex id) of `kind`. */
export function countCall(env: Env, kind: ObjectKind, id: string): void {
  if (!counting(env)) return;
  let perObject = calls.get(kind);
  if (!perObject) calls.set(kind, (perObject = new Map()));
  perObject.set(id, (perObject.get(id) ?? 0) + 1);
}

/** A stub whose every method call is counted for its object. */
export function counted<T extends object>(env: Env, kind: ObjectKind, id: DurableObjectId, stub: T): T {
  if (!counting(env)) return stub;
  const key = id.toString();
  return new Proxy(stub, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "then") return value;
      return (...args: unknown[]) => {
        countCall(env, kind, key);
        // Reflect.apply: the stub's method would take `.apply` for a method of the object to call.
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

export interface KindCalls {
  kind: ObjectKind;
  calls: number;
  objects: number;
  /** Calls to the object of this kind that got the most. */
  busiest: number;
}

/** The counts so far, per kind; `reset` starts them again from zero. */
export function callCounts(reset: boolean): KindCalls[] {
  const out = [...calls].map(([kind, perObject]) => {
    const each = [...perObject.values()];
    return { kind, calls: each.reduce((a, b) => a + b, 0), objects: each.length, busiest: Math.max(...each) };
  });
  if (reset) calls.clear();
  return out;
}
