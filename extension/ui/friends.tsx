import { useEffect, useState } from "preact/hooks";
import type { Address } from "../../shared/address.js";
import { errorText, friendRequestProblem } from "../../ui/view-models/error-text.js";
import { readFriendInput } from "../../ui/view-models/friend-input.js";
import { sentNote } from "../../ui/view-models/friends-model.js";
import type { FriendTrustList, Trust } from "../../ui/view-models/friend-trust.js";
import type { PeopleNames } from "../../ui/view-models/people-names.js";
import { NicknameEditor } from "../../ui/views/nickname-editor.js";
import { useModel } from "../../ui/views/use-model.js";
import type { FriendView } from "../messaging/messages.js";
import { ask } from "./panel-api.js";
import { t } from "./i18n.js";

/** Add a friend, answer requests, and see everyone with where they stand: verified, or their key changed. */
export function Friends({ self, friends, people, trust, onOpenChat, onSafety }: {
  self: Address;
  friends: FriendView[];
  people: PeopleNames;
  trust: FriendTrustList;
  onOpenChat(peer: string): void;
  onSafety(peer: Address): void;
}) {
  useModel(people);
  useModel(trust);
  // A friend's display name is their claim: their address stays beside it (PROTOCOL §8.2).
  const named = (address: string) => {
    const person = people.person(address as Address, { full: true });
    return person.name === address ? address : `${person.name} (${address})`;
  };
  const [input, setInput] = useState("");
  const [status, setStatus] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [sentUnreachable, setSentUnreachable] = useState(false);
  // Requests held for review reach this device only by asking the server; the list then updates.
  useEffect(() => void ask({ type: "sync" }), []);
  const add = async (event: Event) => {
    event.preventDefault();
    setSentTo(null);
    const read = readFriendInput(input, self);
    if (!read.ok) return setStatus(read.error);
    const already = () => setStatus(t("friends.already", { address: read.address }));
    // A friend needs no request; the field keeps what was typed.
    if (friends.some((f) => f.address === read.address && f.state === "friend")) return already();
    const reply = await ask({ type: "add-friend", address: read.address });
    if (!reply.ok) return setStatus(friendRequestProblem(reply, read.address, t));
    if (reply.state === "friend") return already();
    setStatus("");
    setSentTo(reply.address);
    setSentUnreachable(reply.unreachable === true);
    setInput("");
  };
  // The background's failures are English sentences: they are worded here by their code.
  const settle = (reply: { ok: true } | { ok: false; error: string }) => setStatus(reply.ok ? "" : errorText(reply, t));
  const respond = async (address: string, verdict: "accept" | "decline" | "block") => settle(await ask({ type: "respond", address, verdict }));
  const withdraw = async (address: string) => {
    // "Request sent" would outlive the request.
    if (address === sentTo) setSentTo(null);
    settle(await ask({ type: "withdraw-friend", address }));
  };
  const nickname = async (address: Address, typed: string) => {
    const reply = await ask({ type: "set-nickname", address, nickname: typed });
    return reply.ok ? null : errorText(reply, t);
  };
  const requests = friends.filter((f) => f.state === "incoming" || f.state === "held");
  const waiting = friends.filter((f) => f.state === "outgoing" && !f.bounced);
  const undelivered = friends.filter((f) => f.state === "outgoing" && f.bounced);
  const others = friends.filter((f) => !["incoming", "held", "outgoing"].includes(f.state));
  const sent = sentNote(sentTo, friends.find((f) => f.address === sentTo), t, sentUnreachable);
  return (
    <section aria-label={t("friends.title")}>
      <p>
        {t("friends.myAddress")}: <strong>{self}</strong>
      </p>
      <form onSubmit={add} class="row">
        <input aria-label={t("friends.addressLabel")} placeholder={t("friends.addressPlaceholder")} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        <button type="submit">{t("friends.send")}</button>
      </form>
      <p role="status" class={sent && sentUnreachable ? "warn-text" : undefined}>
        {sent ?? status}
      </p>
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
            <FriendItem key={f.address} friend={f} name={named(f.address)} trust={trust.of(f.address)} nickname={people.nickname(f.address as Address) ?? ""}
              onOpenChat={onOpenChat} onSafety={onSafety} onNickname={nickname} />
          ))}
        </ul>
      )}
      {waiting.length > 0 && (
        <>
          <h3>{t("friends.outgoing")}</h3>
          <ul aria-label={t("friends.outgoing")}>
            {waiting.map((f) => (
              <li key={f.address}>
                {named(f.address)}
                <button onClick={() => withdraw(f.address)}>{t("friends.withdraw")}</button>
              </li>
            ))}
          </ul>
        </>
      )}
      {undelivered.length > 0 && (
        <>
          <h3>{t("friends.undelivered")}</h3>
          <ul aria-label={t("friends.undelivered")}>
            {undelivered.map((f) => (
              <li key={f.address}>
                {named(f.address)} — {friendRequestProblem(f.bounced, f.address, t)}
                <button onClick={() => withdraw(f.address)}>{t("friends.dismiss")}</button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** A friend (or someone blocked or gone) in the list; a friend can be written to, verified and named. */
function FriendItem({ friend, name, trust, nickname, onOpenChat, onSafety, onNickname }: {
  friend: FriendView;
  name: string;
  trust: Trust;
  nickname: string;
  onOpenChat(peer: string): void;
  onSafety(peer: Address): void;
  onNickname(peer: Address, typed: string): Promise<string | null>;
}) {
  const address = friend.address as Address;
  return (
    <li class="friend" data-testid="friend" data-address={address}>
      <div class="row wrap">
        <span class="grow">{name} {friend.state === "friend" ? "" : `(${friend.state})`}</span>
        {trust.verified ? <span class="tag">{t("friends.verified")}</span> : null}
        {trust.keyChanged ? <span class="tag warn" aria-hidden="true">!</span> : null}
      </div>
      {trust.keyChanged ? <p class="error" role="alert">{t("friends.keyChanged", { address })}</p> : null}
      {friend.state === "friend" && (
        <div class="row wrap actions">
          <button onClick={() => onOpenChat(address)}>{t("friends.message")}</button>
          <button onClick={() => onSafety(address)}>{t("friends.verify")}</button>
          <NicknameEditor address={address} nickname={nickname} t={t} onSave={(typed) => onNickname(address, typed)} />
        </div>
      )}
    </li>
  );
}
