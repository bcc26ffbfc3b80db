import type { EmsgClient } from "../shared/client/client.js";
import { formatMessage } from "./format.js";

const MAX_BACKOFF_MS = 30_000;

/**
 * Stays connected and prints what arrives, reconnecting with backoff when the server goes away
 * (the client core starts no timers, so this adapter owns them). Ends on Ctrl-C, or when the server
 * says this device was removed from its account.
 */
export async function listen(client: EmsgClient): Promise<void> {
  client.on("message", (m) => console.log(formatMessage(m)));
  // A message shown before changed: its status, its words (edited, deleted) or its reactions.
  client.on("status", (m) => console.log(`  now: ${formatMessage(m)}`));
  client.on("typing", (t) => {
    if (t.typing) console.log(`${t.from} is typing…`);
  });
  client.on("friend", (f) => console.log(`friend ${f.address}: ${f.state}${f.bounced ? ` (not delivered: ${f.bounced})` : ""}`));
  let backoff = 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let end = (): void => undefined;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      await client.connect();
      backoff = 1000;
      console.log(`listening as ${client.address} (Ctrl-C to stop)`);
    } catch (error) {
      // The core's connection event (offline or removed) says what comes next.
      console.log(`not connected: ${(error as Error).message}`);
    }
  };
  client.on("connection", ({ state }) => {
    if (stopped) return;
    if (state === "removed") {
      console.log("This device was removed from its account: nothing more can be sent or received here.");
      end();
    }
    if (state !== "offline") return;
    console.log(`offline; reconnecting in ${backoff / 1000} s`);
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  });
  await new Promise<void>((done) => {
    end = () => {
      stopped = true;
      clearTimeout(timer);
      client.disconnect();
      done();
    };
    process.once("SIGINT", end);
    void connect();
  });
}
