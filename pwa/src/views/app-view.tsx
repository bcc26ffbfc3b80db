import type { AppViewModel } from "../../../ui/view-models/app-model.js";
import { OnboardingView, UnlockView } from "./onboarding-view.js";
import { ShellView } from "./shell-view.js";
import { useModel } from "../../../ui/views/use-model.js";
import { useEffect } from "preact/hooks";

export function AppView({ app }: { app: AppViewModel }) {
  useModel(app);
  useEffect(() => {
    document.documentElement.lang = app.locale;
  }, [app.locale]);
  const unread = app.phase === "ready" ? app.unreadTotal : 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${app.t("app.name")}` : app.t("app.name");
  }, [unread]);
  switch (app.phase) {
    case "loading":
      return <main class="welcome" aria-busy="true"><img class="logo" src="/icons/icon-192.png" alt={app.t("app.name")} width={56} height={56} /></main>;
    case "onboarding":
      return <OnboardingView app={app} />;
    case "locked":
      return <UnlockView app={app} />;
    case "deleted":
      return (
        <main class="welcome">
          <div class="card"><h1>{app.t("settings.deleted")}</h1></div>
        </main>
      );
    case "ready":
      return <ShellView app={app} />;
  }
}
