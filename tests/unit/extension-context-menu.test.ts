import { describe, expect, it } from "vitest";
import { menuNotice } from "../../extension/background/context-menu.js";
import { translator } from "../../ui/i18n/translate.js";
import { asAddress } from "../../shared/address.js";

// The notification after "Add as EMSG friend" on selected text speaks the user's language, and says
// why a request failed, naming the address, as the friends screen does.
describe("the context menu's notification", () => {
  const carol = asAddress("carol#im.c.net");
  const en = translator("en");
  const zh = translator("zh-CN");

  it("says what happened in English", () => {
    expect(menuNotice(en, null)).toBe("The selection holds no EMSG address (name#server).");
    expect(menuNotice(en, carol, { ok: true, address: carol, state: "queued" })).toBe("carol#im.c.net will be added once EMSG is set up.");
    expect(menuNotice(en, carol, { ok: true, address: carol, state: "outgoing" })).toBe("Friend request sent to carol#im.c.net.");
    expect(menuNotice(en, carol, { ok: false, error: "not_found", message: "No such account." })).toBe("There is no account carol#im.c.net.");
  });

  it("and in Chinese, with nothing left in English", () => {
    const said = [
      menuNotice(zh, null),
      menuNotice(zh, carol, { ok: true, address: carol, state: "queued" }),
      menuNotice(zh, carol, { ok: true, address: carol, state: "outgoing" }),
      menuNotice(zh, carol, { ok: false, error: "stranger_refused", message: "carol only accepts friends." }),
    ];
    expect(said[2]).toBe("已向 carol#im.c.net 发送好友请求。");
    for (const text of said) expect(text.replace("carol#im.c.net", "").replace("EMSG", "")).not.toMatch(/[A-Za-z]{3,}/);
  });
});
