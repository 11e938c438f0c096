import { age, clock } from "../lib/format.js";
import { useNow } from "../lib/now.js";

/** How long ago `since` was ("4s", "3m"), kept current; the exact time in the tooltip. */
export function Age(props: { since: number; id?: string; class?: string }) {
  const now = useNow();
  return (
    <span id={props.id} class={props.class} title={clock(props.since)}>
      {age(props.since, now)}
    </span>
  );
}

/** How long until `until` ("4s", "3m"; "0s" once it has passed), kept current. */
export function Countdown(props: { until: number }) {
  const now = useNow();
  return <span title={clock(props.until)}>{age(now, props.until)}</span>;
}
