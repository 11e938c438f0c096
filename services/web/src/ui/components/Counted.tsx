/** A panel's title with how many items wait in it, when any do (`#<id>`: the count's badge). */
export function Counted(props: { title: string; id: string; items: readonly unknown[] | null }) {
  const n = props.items?.length ?? 0;
  return (
    <>
      {props.title}{" "}
      {n > 0 && (
        <span id={props.id} class="count">
          {n}
        </span>
      )}
    </>
  );
}
