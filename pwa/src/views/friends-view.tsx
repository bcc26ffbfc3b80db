import { useState } from "preact/hooks";
import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { verifyQrSvg } from "../../../ui/view-models/safety-number-view.js";
import { QrScanner } from "./qr-scanner.js";
import type { FriendRow, FriendsViewModel } from "../../../ui/view-models/friends-model.js";
import type { MessageKey } from "../../../ui/i18n/en.js";
import { useModel } from "../../../ui/views/use-model.js";
import { PersonAvatar } from "../../../ui/views/person-avatar.js";
import { NicknameEditor } from "../../../ui/views/nickname-editor.js";
import { AddressText } from "../../../ui/views/address-text.js";

export function FriendsView({ app, friends }: { app: AppViewModel; friends: FriendsViewModel }) {
  useModel(friends);
  // Names and avatars change as friends set them.
  useModel(app.chats?.people ?? friends);
  const t = app.t;
  const [note, setNote] = useState("");
  const [copied, setCopied] = useState(false);
  const [scanning, setScanning] = useState(false);

  const add = async (event: Event) => {
    event.preventDefault();
    if (await friends.add(note)) setNote("");
  };
  const copy = async () => {
    await navigator.clipboard?.writeText(app.address);
    setCopied(true);
  };

  const section = (title: MessageKey, rows: FriendRow[], testid: string) =>
    rows.length === 0 ? null : (
      <section class="card" aria-labelledby={`h-${testid}`} data-testid={testid}>
        <h3 id={`h-${testid}`}>{t(title)}</h3>
        {rows.map((row) => <PersonRow key={row.address} app={app} friends={friends} row={row} />)}
      </section>
    );

  return (
    <div class="main">
      <div class="page">
        <div class="page-inner">
          <h1>{t("friends.title")}</h1>
          {section("friends.incoming", friends.incoming, "incoming")}
          {section("friends.held", friends.held, "held")}
          {section("friends.list", friends.friends, "friend-list")}
          <section class="card" aria-labelledby="my-address">
            <h3 id="my-address">{t("friends.myAddress")}</h3>
            <div class="address-box">
              <span class="grow" data-testid="my-address">{app.address}</span>
              <button type="button" class="ghost" onClick={() => void copy()}>{copied ? t("friends.copied") : t("friends.copy")}</button>
            </div>
            <figure class="my-code">
              <div class="qr" role="img" data-testid="my-qr" aria-label={t("safety.qr", { address: app.address })} dangerouslySetInnerHTML={{ __html: verifyQrSvg(app.address, app.accountKey) }} />
              <figcaption class="hint">{t("friends.myQr")}</figcaption>
            </figure>
          </section>
          <form class="card" onSubmit={(e) => void add(e)} aria-labelledby="add-title">
            <h2 id="add-title">{t("friends.add")}</h2>
            <div class="field">
              <label for="friend-address">{t("friends.addressLabel")}</label>
              <div class="row">
                <input id="friend-address" class="grow" type="text" autoCapitalize="none" spellcheck={false} placeholder={t("friends.addressPlaceholder")} value={friends.draft} onInput={(e) => friends.setDraft(e.currentTarget.value)} />
                <button type="button" onClick={() => setScanning(true)} aria-expanded={scanning}>{t("friends.scan")}</button>
              </div>
            </div>
            {scanning ? (
              <QrScanner
                t={t}
                onCode={(text) => {
                  setScanning(false);
                  friends.useCode(text);
                }}
                onCancel={() => setScanning(false)}
              />
            ) : null}
            <div class="field">
              <label for="friend-note">{t("friends.note")}</label>
              <input id="friend-note" type="text" maxLength={280} placeholder={t("friends.notePlaceholder")} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
            </div>
            <div class="row">
              <button class="primary" type="submit" disabled={!friends.draft.trim() || friends.busy}>{t("friends.send")}</button>
              <span class="grow" aria-live="polite">
                {friends.error ? <span class="error" role="alert">{friends.error}</span> : null}
                {friends.notice ? <span class={friends.noticeWarns ? "warn-text" : "ok"}>{friends.notice}</span> : null}
              </span>
            </div>
          </form>
          {section("friends.outgoing", friends.outgoing, "outgoing")}
          {section("friends.undelivered", friends.undelivered, "undelivered")}
          {section("friends.blocked", friends.blocked, "blocked")}
          {friends.isEmpty ? <p class="empty">{t("friends.none")}</p> : null}
        </div>
      </div>
    </div>
  );
}

function PersonRow({ app, friends, row }: { app: AppViewModel; friends: FriendsViewModel; row: FriendRow }) {
  const t = app.t;
  // A friend's display name leads, their address under it: the name is only their claim (PROTOCOL §8.2).
  const person = app.chats?.people.person(row.address, { full: true });
  const named = person !== undefined && person.name !== row.address;
  return (
    <div class="person" data-testid="person" data-address={row.address}>
      <PersonAvatar url={person?.avatar ?? null} initial={named ? person.initial : row.initial} />
      <div class="grow">
        <div class="row">
          <strong data-testid="person-name">{named ? person.name : <AddressText address={row.address} />}</strong>
          {row.verified ? <span class="tag">{t("friends.verified")}</span> : null}
          {row.keyChanged ? <span class="tag warn">!</span> : null}
        </div>
        {named ? <div class="hint" data-testid="person-address"><AddressText address={row.address} /></div> : null}
        {row.note ? <div class="hint">“{row.note}”</div> : null}
        {row.movedTo ? <div class="hint" data-testid="moved-to">{t("move.movedTo", { address: row.movedTo })}</div> : null}
        {row.movedFrom ? <div class="hint">{t("move.movedFrom", { address: row.movedFrom })}</div> : null}
        {row.problem ? <div class="error">{row.problem}</div> : null}
        {row.keyChanged ? <div class="error">{t("friends.keyChanged", { address: row.address })}</div> : null}
      </div>
      <div class="actions">
        {row.canAnswer ? (
          <>
            <button type="button" class="primary" onClick={() => void friends.accept(row.address)}>{t("friends.accept")}</button>
            <button type="button" onClick={() => void friends.decline(row.address)}>{t("friends.decline")}</button>
            <button type="button" class="danger" onClick={() => void friends.block(row.address)}>{t("friends.block")}</button>
          </>
        ) : null}
        {row.canWithdraw ? (
          <button type="button" onClick={() => void friends.withdraw(row.address)}>{t(row.problem ? "friends.dismiss" : "friends.withdraw")}</button>
        ) : null}
        {row.isFriend && row.movedTo ? (
          <button type="button" class="primary" onClick={() => void app.openChatWith(row.movedTo!)}>{t("move.openNew", { address: row.movedTo })}</button>
        ) : row.isFriend ? (
          <>
            <button type="button" class="primary" onClick={() => void app.openChatWith(row.address)}>{t("friends.message")}</button>
            <button type="button" onClick={() => app.showSafety(row.address)}>{t("friends.verify")}</button>
            <NicknameEditor address={row.address} nickname={app.chats?.people.nickname(row.address) ?? ""} t={t}
              onSave={async (typed) => ((await friends.setNickname(row.address, typed)) ? null : friends.error)} />
            <button type="button" onClick={() => confirm(t("friends.removeConfirm", { address: row.address })) && void friends.remove(row.address)}>{t("friends.remove")}</button>
            <button type="button" class="danger" onClick={() => confirm(t("friends.blockConfirm", { address: row.address })) && void friends.block(row.address)}>{t("friends.block")}</button>
          </>
        ) : null}
      </div>
    </div>
  );
}
