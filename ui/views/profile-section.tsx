import { useState } from "preact/hooks";
import type { Translate } from "../i18n/translate.js";
import { errorSentence } from "../view-models/error-text.js";
import type { ProfileViewModel } from "../view-models/profile-model.js";
import { avatarFromFile } from "./avatar-image.js";
import { PersonAvatar } from "./person-avatar.js";
import { useModel } from "./use-model.js";

/** Settings' "Your profile": the display name and avatar friends and groups see (PROTOCOL §8.2). */
export function ProfileSection({ profile, t }: { profile: ProfileViewModel; t: Translate }) {
  useModel(profile);
  const [pickError, setPickError] = useState<string | null>(null);
  const pick = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      profile.setAvatar(await avatarFromFile(file));
      setPickError(null);
    } catch (error) {
      setPickError(errorSentence(error));
    }
  };
  return (
    <form class="card stack profile-form" data-testid="profile-form" aria-labelledby="profile-title" onSubmit={(e) => { e.preventDefault(); void profile.save(); }}>
      <h3 id="profile-title">{t("profile.title")}</h3>
      <div class="row">
        <PersonAvatar url={profile.avatarUrl} initial={profile.initial} extra="large" />
        <div class="stack">
          <label class="button">
            {t("profile.pickAvatar")}
            <input type="file" accept="image/*" class="visually-hidden" data-testid="avatar-file" onChange={(e) => void pick(e.currentTarget)} />
          </label>
          {profile.avatar ? <button type="button" onClick={() => profile.setAvatar(null)}>{t("profile.removeAvatar")}</button> : null}
        </div>
      </div>
      <p class="hint">{t("profile.avatarHint")}</p>
      {pickError ? <p class="error" role="alert">{pickError}</p> : null}
      <div class="field">
        <label for="profile-name">{t("profile.name")}</label>
        <input id="profile-name" type="text" autoComplete="nickname" value={profile.name} onInput={(e) => profile.setName(e.currentTarget.value)} />
      </div>
      <p class="hint">{t("profile.hint")}</p>
      {profile.problem ? <p class="error" role="alert">{t(profile.problem)}</p> : null}
      {profile.error ? <p class="error" role="alert">{profile.error}</p> : null}
      <div class="row">
        <button type="submit" class="primary" disabled={profile.busy || !profile.dirty}>{t("profile.save")}</button>
        {profile.saved ? <span class="ok" aria-live="polite">{t("settings.saved")}</span> : null}
      </div>
    </form>
  );
}
