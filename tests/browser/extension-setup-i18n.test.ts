import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { launchWithExtension, type LoadedExtension } from "./extension-harness.js";

// The extension's first screen under a Chinese browser: every label in 简体中文, styled buttons.
describe("the extension's setup in Chinese", () => {
  let ext: LoadedExtension;

  beforeAll(async () => {
    ext = await launchWithExtension(undefined, "zh-CN");
  }, 180_000);

  afterAll(async () => {
    await ext?.close();
  });

  it("labels the address and server fields in Chinese, with nothing left in English", async () => {
    const panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByLabel("你的 EMSG 地址").waitFor();
    await panel.getByLabel(/服务器网址/).waitFor();
    await panel.getByRole("button", { name: "创建我的地址" }).waitFor();
    const text = await panel.locator("form.setup").innerText();
    expect(text).not.toMatch(/Your EMSG address|Server URL|Waiting to be added/);
    // The submit button is styled (the accent colour), not the browser's bare default.
    const background = await panel.getByRole("button", { name: "创建我的地址" }).evaluate((b) => getComputedStyle(b).backgroundColor);
    expect(background).toBe("rgb(36, 86, 201)");
    await panel.screenshot({ path: join("test-artifacts", "extension-setup-zh.png") });
  });

  it("moves an account in, in Chinese too: the form the PWA's onboarding has", async () => {
    const panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByRole("button", { name: "把账户搬到这里" }).click();
    const form = panel.getByTestId("move-form");
    await form.getByLabel("你的新 EMSG 地址", { exact: false }).waitFor();
    await form.getByLabel(/服务器网址/).waitFor();
    expect(await form.innerText()).not.toMatch(/Move an account|Export file|Passphrase|new EMSG address|Server URL|Back/);
  });

  it("names a bad link code for what it is and where to get one, in Chinese, never its format", async () => {
    const panel = await ext.context.newPage();
    await panel.goto(`chrome-extension://${ext.id}/sidepanel.html`);
    await panel.getByRole("button", { name: "我已在其他设备上使用 EMSG" }).click();
    await panel.getByLabel("链接代码").fill("emsg-link:1:nonsense");
    await panel.getByRole("button", { name: "链接本设备" }).click();
    await expect.poll(() => panel.getByRole("alert").textContent()).toBe("这不是链接代码。请在你的另一台设备上获取：设置 → 设备 → 链接新设备。");
  });
});
