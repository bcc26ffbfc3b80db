// V8 CPU profiles of a workerd process through its inspector port, for the bench's A/B tools
// (hub-ab, receiver-ab, trip-profile).
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

/** Starts sampling the workerd whose inspector listens on `port`, every `intervalUs` µs; `stop` gives the profile. */
export async function startProfile<P = unknown>(port: number, intervalUs = 200): Promise<{ stop(): Promise<P> }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let id = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  const call = (method: string, params = {}) =>
    new Promise<unknown>((r) => {
      waiting.set(++id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: intervalUs });
  await call("Profiler.start");
  return {
    async stop() {
      const { profile } = (await call("Profiler.stop")) as { profile: P };
      ws.close();
      return profile;
    },
  };
}

/** A profile of the workerd behind inspector `port` while `work` runs, written to `file`. */
export async function profiled<T>(port: number, work: () => Promise<T>, file: string): Promise<T> {
  const profile = await startProfile(port);
  const out = await work();
  writeFileSync(file, JSON.stringify(await profile.stop()));
  return out;
}
