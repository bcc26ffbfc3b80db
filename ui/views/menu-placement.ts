/** A rectangle on screen, as getBoundingClientRect gives it. */
export interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface MenuPlacement {
  /** Below its button rather than above it. */
  below: boolean;
  /** Its left edge, in pixels from the button's box's left edge. */
  left: number;
}

/** Room kept between a menu and the edges it must stay inside. */
const MARGIN = 4;

/**
 * Where a message's menu opens beside its ⋯ button (`anchor`) so that it shows whole inside
 * `bounds`, the part of the timeline on screen (what lies beyond is cut off, under the chat's
 * header or its list): above the button when it fits there, as menus near the composer need,
 * else below, else on the side with more room. Sideways it ends where the button ends, slid back
 * inside `bounds` where that would run past an edge (a received message's button sits far left).
 */
export function menuPlacement(anchor: Box, menu: { width: number; height: number }, bounds: Box): MenuPlacement {
  const above = anchor.top - bounds.top - MARGIN;
  const belowRoom = bounds.bottom - anchor.bottom - MARGIN;
  const below = menu.height > above && (menu.height <= belowRoom || belowRoom > above);
  const widest = bounds.right - MARGIN - menu.width;
  const left = Math.max(bounds.left + MARGIN, Math.min(anchor.right - menu.width, widest));
  return { below, left: left - anchor.left };
}

/** Where `a` and `b` overlap (the timeline and the window, say). */
export function intersect(a: Box, b: Box): Box {
  return { top: Math.max(a.top, b.top), bottom: Math.min(a.bottom, b.bottom), left: Math.max(a.left, b.left), right: Math.min(a.right, b.right) };
}
