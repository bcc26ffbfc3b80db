import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { Profile } from "../../shared/profile.js";
import { ProfileViewModel } from "../../ui/view-models/profile-model.js";

/** A form whose saved profile arrives when the test says (the extension asks its background for it). */
function form() {
  let arrive!: (profile: Profile | undefined) => void;
  const saved: string[] = [];
  const model = new ProfileViewModel({
    address: "bob#im.bob.test" as Address,
    profile: () => new Promise<Profile | undefined>((resolve) => (arrive = resolve)),
    setProfile: async (name: string) => {
      saved.push(name);
      return { name, setAt: 2 } as Profile;
    },
  });
  return { model, loading: model.load(), arrive: (profile?: Profile) => arrive(profile), saved };
}

describe("the profile form in Settings", () => {
  it("shows the saved name when the person has typed nothing yet", async () => {
    const { model, loading, arrive } = form();
    arrive({ name: "Old name", setAt: 1 } as Profile);
    await loading;
    expect(model.name).toBe("Old name");
    expect(model.dirty).toBe(false);
  });

  it("keeps a name typed before the saved profile arrives, and saves it", async () => {
    const { model, loading, arrive, saved } = form();
    model.setName("Alice Liddell");
    arrive({ name: "Old name", setAt: 1 } as Profile);
    await loading;
    expect(model.name).toBe("Alice Liddell");
    expect(model.dirty).toBe(true);
    await model.save();
    expect(saved).toEqual(["Alice Liddell"]);
  });

  // The view draws the form, then subscribes in an effect Preact runs after the next frame; on a busy
  // machine a name typed in between left Save disabled, as nothing drew the form again.
  it("tells a view that subscribes after the name was typed that the form changed since it drew it", async () => {
    const { model, loading, arrive } = form();
    arrive(undefined);
    await loading;
    const drawn = model.version;
    model.setName("Alice Liddell");
    let redrawn = 0;
    model.subscribe(() => redrawn++, drawn);
    expect(redrawn).toBe(1);
    expect(model.dirty).toBe(true);
    model.subscribe(() => redrawn++, model.version);
    expect(redrawn).toBe(1);
  });

  it("shows the initial of the name on the avatar, else of the address before '#', never a '#'", async () => {
    const { model, loading, arrive } = form();
    arrive(undefined);
    await loading;
    expect(model.initial).toBe("B");
    model.setName("  émile ");
    expect(model.initial).toBe("É");
    model.setName("");
    expect(model.initial).toBe("B");
  });
});
