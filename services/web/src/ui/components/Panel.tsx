import type { ComponentChildren } from "preact";

/** A titled box on a page; every panel sits in one. */
export function Panel(props: {
  id: string;
  title: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <section class="panel" id={props.id}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}
