/**
 * A load that runs again on every change: runs overlap when changes come quickly, and their
 * answers may come back out of order. Only the newest run's answer is taken; an older one,
 * arriving late, could put emptier data back on screen.
 */
export function newestAnswer<T>(load: () => Promise<T>, take: (answer: T) => void | Promise<void>): () => Promise<void> {
  let asked = 0;
  return async () => {
    const mine = ++asked;
    const answer = await load();
    if (mine === asked) await take(answer);
  };
}
