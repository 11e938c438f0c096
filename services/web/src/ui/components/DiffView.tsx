/** How a line of a unified diff is shown. */
export type DiffLineKind = "add" | "del" | "hunk" | "meta" | "ctx";

/** The kind of one line of `git diff` output. */
export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith("+++") || line.startsWith("---")) return "meta";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  if (/^(diff |index |new file|deleted file|similarity |rename |old mode|new mode|\\)/.test(line)) {
    return "meta";
  }
  return "ctx";
}

/**
 * A unified diff as text, one line per row, added and removed lines marked (colour and their
 * `+`/`-`); always text nodes, whatever the diff holds.
 */
export function DiffView(props: { diff: string; id?: string }) {
  const lines = props.diff.replace(/\n$/, "").split("\n");
  return (
    <pre id={props.id} class="diff">
      {lines.map((line, i) => {
        const kind = diffLineKind(line);
        return (
          <span key={`${i}`} class={`diff-line ${kind}`} data-kind={kind}>
            {line}
            {"\n"}
          </span>
        );
      })}
    </pre>
  );
}
