import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { listen } from "./dom-listeners.js";

/** This near the bottom, in pixels, still counts as reading the newest messages. */
const NEAR_BOTTOM_PX = 40;
/** Room left above the unread line when a chat opens at it: a glimpse of what was read before. */
const START_MARGIN_PX = 24;
/**
 * A scroll this soon after the person's wheel, touch or key is theirs. Any other is the page's own:
 * a photo above growing as it loads (the browser's scroll anchoring moves the view), or ours.
 */
const USER_SCROLL_MS = 800;
const SCROLL_KEYS = new Set(["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " ", "Tab"]);

export interface TimelineFollow {
  /** The timeline element's ref. */
  ref(element: HTMLElement | null): void;
  /** For the timeline's scroll events: following stops while the person reads further up, and starts again at the bottom. */
  onScroll(): void;
  /** Back to the newest message at the next change (the person sent something). */
  follow(): void;
  /** Keeps what is on screen still while older messages are put above it: call before asking for them. */
  holdPlace(): void;
  /** To the newest message now, following again (the jump button). */
  jump(): void;
  /** Brings an earlier message to the middle of the view and stops following (a quote tapped). */
  show(message: Element | null): void;
  /**
   * Opens the view at `line` (where the unread messages begin), near its top, when the newest
   * message's screen does not reach it; true when it did so and no longer follows.
   */
  startAt(line: Element | null): boolean;
  /** The timeline is at its newest message. */
  atNewest: boolean;
  /** At its newest message on a page that is shown: what came could be read. */
  seeing: boolean;
}

/** Whether a key pressed in `target` scrolls the page rather than types. */
function scrollsByKey(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  const typing = target?.isContentEditable || target?.tagName === "TEXTAREA" || target?.tagName === "INPUT" || target?.tagName === "SELECT";
  return SCROLL_KEYS.has(event.key) && !typing;
}

/**
 * Keeps a chat's timeline at its newest message unless the person scrolled up to read: when it is
 * drawn, when messages come (`items` changed), and whenever the timeline's size or a message's
 * changes, which moves the bottom without a scroll event (the header growing as the chat's details
 * arrive, the composer growing, a photo loading, a phone turned).
 *
 * Only the person's own scrolling stops following: a scroll event that reaches the handler after a
 * photo grew (before the size observer saw it) finds the view short of the new bottom, and taking
 * that for reading further up left chats with photos open partway up.
 */
export function useTimelineFollow(items: unknown): TimelineFollow {
  const [element, setElement] = useState<HTMLElement | null>(null);
  const following = useRef(true);
  const [atNewest, setAtNewest] = useState(true);
  const [shown, setShown] = useState(() => document.visibilityState === "visible");
  const olderAnchor = useRef<number | null>(null);
  const lastInput = useRef(Number.NEGATIVE_INFINITY);
  const pressing = useRef(false);

  const setFollowing = (value: boolean) => {
    following.current = value;
    setAtNewest(value);
  };
  const toBottom = (timeline: HTMLElement) => {
    timeline.scrollTop = timeline.scrollHeight;
  };

  // A timeline drawn anew (the chat opened again) starts at its newest message.
  useLayoutEffect(() => {
    setFollowing(true);
    olderAnchor.current = null;
  }, [element]);

  useLayoutEffect(() => {
    if (!element) return;
    if (olderAnchor.current !== null) {
      element.scrollTop = element.scrollHeight - olderAnchor.current;
      olderAnchor.current = null;
    } else if (following.current) {
      toBottom(element);
    }
  }, [element, items]);

  useLayoutEffect(() => {
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (following.current) toBottom(element);
    });
    observer.observe(element);
    for (const child of element.children) observer.observe(child);
    return () => observer.disconnect();
  }, [element, items]);

  // What the person does to scroll: a wheel, a touch, a key, or a press on the scrollbar held while dragging.
  useEffect(() => {
    if (!element) return;
    const input = () => {
      lastInput.current = performance.now();
    };
    const press = () => {
      pressing.current = true;
      input();
    };
    const release = () => {
      if (!pressing.current) return;
      pressing.current = false;
      input();
    };
    const key = (event: KeyboardEvent) => {
      if (scrollsByKey(event)) input();
    };
    const removers = [
      listen(element, "wheel", input, { passive: true }),
      listen(element, "touchstart", input, { passive: true }),
      listen(element, "touchmove", input, { passive: true }),
      listen(element, "pointerdown", press),
      listen(window, "pointerup", release),
      listen(window, "pointercancel", release),
      listen(document, "keydown", key),
    ];
    return () => {
      for (const remove of removers) remove();
    };
  }, [element]);

  useEffect(() => {
    const change = () => setShown(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", change);
    return () => document.removeEventListener("visibilitychange", change);
  }, []);

  const actions = useMemo(
    () => ({
      ref: setElement,
      onScroll() {
        if (!element) return;
        const byPerson = pressing.current || performance.now() - lastInput.current < USER_SCROLL_MS;
        if (element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX) setFollowing(true);
        else if (byPerson) setFollowing(false);
        else if (following.current) toBottom(element);
      },
      follow() {
        following.current = true;
      },
      holdPlace() {
        if (element) olderAnchor.current = element.scrollHeight - element.scrollTop;
      },
      jump() {
        setFollowing(true);
        if (element) toBottom(element);
      },
      show(message: Element | null) {
        if (!element || !message) return;
        setFollowing(false);
        message.scrollIntoView({ block: "center" });
      },
      startAt(line: Element | null) {
        if (!element || !line) return false;
        const top = line.getBoundingClientRect().top - element.getBoundingClientRect().top + element.scrollTop;
        if (top >= element.scrollHeight - element.clientHeight) return false;
        setFollowing(false);
        element.scrollTop = top - START_MARGIN_PX;
        return true;
      },
    }),
    [element],
  );
  return { ...actions, atNewest, seeing: atNewest && shown };
}
