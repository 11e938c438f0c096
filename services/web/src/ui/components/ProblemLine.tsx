import type { Problem } from "../lib/api.js";

/** `code: message` in the error colour, or nothing (kept in the page, hidden) when all is well. */
export function ProblemLine(props: { id?: string; problem: Problem | null }) {
  const p = props.problem;
  return (
    <p id={props.id} class="error" role="alert" hidden={p === null} data-code={p?.code}>
      {p ? `${p.code}: ${p.message}` : ""}
    </p>
  );
}
