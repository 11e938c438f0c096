/** The model an agent's next turn uses, as a chip; "model ?" until its harness has said. */
export function ModelChip(props: { model: string | null | undefined; id?: string }) {
  const m = props.model ?? null;
  return (
    <span
      id={props.id}
      class={m === null ? "chip model unknown" : "chip model"}
      title="the model its next turn uses (/model <name> in its page's terminal changes it)"
      data-model={m ?? undefined}
    >
      {m ?? "model ?"}
    </span>
  );
}
