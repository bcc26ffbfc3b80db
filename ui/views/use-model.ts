import { useEffect, useReducer } from "preact/hooks";
import type { Observable } from "../view-models/observable.js";

/**
 * Re-renders the calling component whenever the view model says it changed, including a change
 * made after this render and before the effect subscribed (Preact runs effects after the next frame).
 */
export function useModel<T extends Observable>(model: T): T {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const drawn = model.version;
  useEffect(() => model.subscribe(() => bump(undefined), drawn), [model]);
  return model;
}
