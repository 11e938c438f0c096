import type { Signal } from "@preact/signals";

/** A labelled checkbox that is `checked`, a boolean signal, both ways. */
export function Checkbox(props: {
  id: string;
  checked: Signal<boolean>;
  label: string;
  class?: string;
}) {
  return (
    <label class={props.class}>
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked.value}
        onChange={(e) => {
          props.checked.value = e.currentTarget.checked;
        }}
      />{" "}
      {props.label}
    </label>
  );
}
