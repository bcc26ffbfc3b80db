import { useEffect, useReducer } from "preact/hooks";
import type { Observable } from "../view-models/observable.js";

/** Re-renders the calling component whenever the view model says it changed. */
export function useModel<T extends Observable>(model: T): T {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => model.subscribe(() => bump(undefined)), [model]);
  return model;
}
