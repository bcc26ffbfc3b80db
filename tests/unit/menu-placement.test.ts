import { describe, expect, it } from "vitest";
import { menuPlacement } from "../../ui/views/menu-placement.js";

// A timeline from y 76 (under the chat's header) to 700, x 424 (right of the chat list) to 1280.
const timeline = { top: 76, bottom: 700, left: 424, right: 1280 };
const menu = { width: 200, height: 150 };
const button = (x: number, y: number) => ({ top: y, bottom: y + 16, left: x, right: x + 16 });

describe("where a message's menu opens", () => {
  it("above its ⋯ where there is room, ending where the button ends", () => {
    expect(menuPlacement(button(1000, 600), menu, timeline)).toEqual({ below: false, left: 16 - 200 });
  });

  it("below its ⋯ for a message at the top of the chat, not under the header", () => {
    expect(menuPlacement(button(1000, 150), menu, timeline).below).toBe(true);
  });

  it("on the roomier side when neither has room for all of it", () => {
    const short = { top: 76, bottom: 300, left: 424, right: 1280 };
    expect(menuPlacement(button(1000, 160), menu, short).below).toBe(true);
    expect(menuPlacement(button(1000, 200), menu, short).below).toBe(false);
  });

  it("slid right to stay out of the chat list for a short received message far left", () => {
    const { left } = menuPlacement(button(560, 150), menu, timeline);
    expect(560 + left).toBe(424 + 4);
  });

  it("slid left to stay inside the timeline's right edge", () => {
    const { left } = menuPlacement(button(1270, 600), { width: 200, height: 150 }, timeline);
    expect(1270 + left + 200).toBeLessThanOrEqual(1280 - 4);
  });
});
