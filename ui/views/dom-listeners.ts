/**
 * Adds a DOM listener and returns what removes it, so an effect that listens in many places
 * undoes them all from one list.
 */
export function listen<E extends Event>(target: EventTarget, type: string, handler: (event: E) => void, options?: AddEventListenerOptions): () => void {
  const listener = handler as EventListener;
  target.addEventListener(type, listener, options);
  return () => target.removeEventListener(type, listener, options);
}
