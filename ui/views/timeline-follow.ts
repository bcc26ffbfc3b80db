import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

/** This near the bottom, in pixels, still counts as reading the newest messages. */
const NEAR_BOTTOM_PX = 40;

export interface TimelineFollow {
  /** The timeline element's ref. */
  ref(element: HTMLElement | null): void;
  /** For the timeline's scroll events: following stops while the person reads further up, and starts again at the bottom. */
  onScroll(): void;
  /** Back to the newest message at the next change (the person sent something). */
  follow(): void;
  /** Keeps what is on screen still while older messages are put above it: call before asking for them. */
  holdPlace(): void;
}

/**
 * Keeps a chat's timeline at its newest message unless the person scrolled up to read: when it is
 * drawn, when messages come (`items` changed), and whenever the timeline's size or a message's
 * changes, which moves the bottom without a scroll event (the header growing as the chat's details
 * arrive, the composer growing, a photo loading, a phone turned).
 */
export function useTimelineFollow(items: unknown): TimelineFollow {
  const [element, setElement] = useState<HTMLElement | null>(null);
  const following = useRef(true);
  const olderAnchor = useRef<number | null>(null);

  // A timeline drawn anew (the chat opened again) starts at its newest message.
  useLayoutEffect(() => {
    following.current = true;
    olderAnchor.current = null;
  }, [element]);

  useLayoutEffect(() => {
    if (!element) return;
    if (olderAnchor.current !== null) {
      element.scrollTop = element.scrollHeight - olderAnchor.current;
      olderAnchor.current = null;
    } else if (following.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [element, items]);

  useLayoutEffect(() => {
    if (!element || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (following.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(element);
    for (const child of element.children) observer.observe(child);
    return () => observer.disconnect();
  }, [element, items]);

  return useMemo(
    () => ({
      ref: setElement,
      onScroll() {
        if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
      },
      follow() {
        following.current = true;
      },
      holdPlace() {
        if (element) olderAnchor.current = element.scrollHeight - element.scrollTop;
      },
    }),
    [element],
  );
}
