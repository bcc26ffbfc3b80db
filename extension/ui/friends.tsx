import { useEffect, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import { ERROR_SENTENCE, isErrorCode } from "../../shared/errors.js";
import { readFriendInput } from "../../ui/view-models/friend-input.js";
import { sentNote } from "../../ui/view-models/friends-model.js";
import type { PeopleNames } from "../../ui/view-models/people-names.js";
import { useModel } from "../../ui/views/use-model.js";
import type { FriendView } from "../messaging/messages.js";
import { ask } from "./panel-api.js";
import { t } from "./i18n.js";

/** Add a friend, answer requests, and see everyone with where they stand. */
export function Friends({ self, friends, people, onOpenChat }: { self: Address; friends: FriendView[]; people: PeopleNames; onOpenChat(peer: string): void }) {
  useModel(people);
  // A friend's display name is their claim: their address stays beside it (PROTOCOL §8.2).
  const named = (address: string) => {
    const person = people.person(address as Address, { full: true });
    return person.name === address ? address : `${person.name} (${address})`;
  };
  const [input, setInput] = useState("");
  const [status, setStatus] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  // Requests held for review reach this device only by asking the server; the list then updates.
  useEffect(() => void ask({ type: "sync" }), []);
  const add = async (event: Event) => {
    event.preventDefault();
    setSentTo(null);
    const read = readFriendInput(input, self);
    if (!read.ok) return setStatus(read.error);
    const reply = await ask({ type: "add-friend", address: read.address });
    setStatus(reply.ok ? "" : reply.message);
    if (reply.ok) {
      setSentTo(reply.address);
      setInput("");
    }
  };
  const respond = async (address: string, verdict: "accept" | "decline" | "block") => {
    const reply = await ask({ type: "respond", address, verdict });
    if (!reply.ok) setStatus(reply.message);
  };
  const requests = friends.filter((f) => f.state === "incoming" || f.state === "held");
  const others = friends.filter((f) => f.state !== "incoming" && f.state !== "held");
  return (
    <section aria-label={t("friends.title")}>
      <p>
        {t("friends.myAddress")}: <strong>{self}</strong>
      </p>
      <form onSubmit={add} class="row">
        <input aria-label={t("friends.addressLabel")} placeholder={t("friends.addressPlaceholder")} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        <button type="submit">{t("friends.send")}</button>
      </form>
      <p role="status">{sentNote(sentTo, friends.find((f) => f.address === sentTo), t) ?? status}</p>
      {requests.length > 0 && (
        <>
          <h3>{t("friends.incoming")}</h3>
          <ul aria-label={t("friends.incoming")}>
            {requests.map((f) => (
              <li key={f.address}>
                {f.address} {f.note ? `“${f.note}”` : ""}
                <button onClick={() => respond(f.address, "accept")}>{t("friends.accept")}</button>
                <button onClick={() => respond(f.address, "decline")}>{t("friends.decline")}</button>
                <button onClick={() => respond(f.address, "block")}>{t("friends.block")}</button>
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>{t("friends.list")}</h3>
      {others.length === 0 ? (
        <p>{t("friends.none")}</p>
      ) : (
        <ul aria-label={t("friends.list")}>
          {others.map((f) => (
            <li key={f.address}>
              {named(f.address)} {f.state === "friend" ? "" : `(${f.state === "outgoing" ? t("friends.outgoing") : f.state})`}
              {f.bounced ? ` — ${isErrorCode(f.bounced) ? ERROR_SENTENCE[f.bounced] : f.bounced}` : ""}
              {f.state === "friend" && <button onClick={() => onOpenChat(f.address)}>{t("friends.message")}</button>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
