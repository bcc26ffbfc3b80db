import { describe, expect, it } from "vitest";
import { translator } from "../../ui/i18n/translate.js";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { noticeText } from "../../ui/view-models/group-notice.js";
import { bobStuck, syncAll } from "./group-world.js";
import { chatContext } from "./chat-context.js";

// What a person sees of a device out of step (PROTOCOL §8, Rejoining): why the chat waits, in their
// language, then the chat again with a line saying that some messages could not be read.

describe("a chat this device fell out of step with", () => {
  it("says it asked to be let back in, then is a chat again with a line about what it missed, in English and Chinese", { timeout: 60_000 }, async () => {
    const { alice, bob, carol, conversation } = await bobStuck();

    const ctx = chatContext(bob);
    const shown = new ConversationViewModel(ctx, conversation, null, "Trip");
    bob.events.on("conversation", (summary) => shown.adopt(summary));
    await shown.load();
    expect(shown).toMatchObject({ rejoining: true, canSend: false });
    expect(ctx.t("conv.rejoining", { reason: shown.unsafe! })).toMatch(/^This device fell out of step with this chat and has asked to be let back in/);

    await syncAll(alice, carol, bob);
    expect(shown).toMatchObject({ rejoining: false, unsafe: null, canSend: true });
    const line = (await bob.history(conversation, { limit: 100 })).find((m) => m.notice?.type === "rejoined")!;
    const labels = { self: bob.address, label: (a: string) => ({ name: a.split("#")[0]! }) } as never;
    expect(noticeText(line.notice!, labels, "en", translator("en"))).toBe("This device was let back into the chat. Some messages sent while it was out of step could not be read");
    expect(noticeText(line.notice!, labels, "zh-CN", translator("zh-CN"))).toBe("此设备已重新加入聊天。它与聊天不同步期间发送的部分消息无法读取");
  });
});
