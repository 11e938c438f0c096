import { signal } from "@preact/signals";

const tick = signal(Date.now());
let ticking = false;

/**
 * The time now (unix ms). A component that calls it re-renders once a second, so the ages it
 * shows stay true; one timer, started by the first caller, serves them all.
 */
export function useNow(): number {
  if (!ticking) {
    ticking = true;
    window.setInterval(() => {
      tick.value = Date.now();
    }, 1000);
  }
  return tick.value;
}
