import { useEffect, useState } from "preact/hooks";
import { runtimePageApi } from "../messaging/page-api.js";
import type { ReplyOf } from "../messaging/messages.js";

export function App({ layout }: { layout: "popup" | "panel" }) {
  const [status, setStatus] = useState<ReplyOf["status"] | null>(null);
  useEffect(() => {
    runtimePageApi.status().then(setStatus);
  }, []);
  return (
    <main class={layout}>
      <h1>EMSG</h1>
      {status === null ? <p>Loading…</p> : !status.ok ? <p role="alert">{status.message}</p> : (
        <>
          <p>{status.account ? `You are ${status.account}` : "EMSG is not set up on this device yet."}</p>
          <ul aria-label="Friends">
            {status.friends.map((f) => (
              <li key={f.address}>{f.address} {f.state === "friend" ? "" : `(${f.state})`}</li>
            ))}
          </ul>
        </>
      )}
    </main>
  );
}
