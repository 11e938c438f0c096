import { signal } from "@preact/signals";

const tick = signal(Date.now());
let ticking = false;

/**
 * The time now (unix ms). A component that calls it re-renders once a second, so the ages it
 * shows stay true; one timer, started by the first caller, serves them all. The tick only makes
 * the re-renders: the time is read afresh, so a render new data causes is not a tick (or more,
 * when the page's timers run late) behind it — a retry just asked for showed "next try in 2s".
 */
export function useNow(): number {
  if (!ticking) {
    ticking = true;
    window.setInterval(() => {
      tick.value = Date.now();
    }, 1000);
  }
  // Read for its subscription: the component re-renders at each tick.
  return Math.max(tick.value, Date.now());
}
