import type { LiveEvent } from "@hyperhive/shared/contract";
import type { ComponentChildren } from "preact";
import { blocks, ClaudeLine, resultFigures, toolResultText } from "../lib/claude.js";
import { pretty } from "../lib/format.js";

/** One block of a turn: a coloured rule, a small label, then its text (always as text). */
function Block(props: {
  class: string;
  label?: ComponentChildren;
  text?: string;
  children?: ComponentChildren;
}) {
  return (
    <div class={`ev ${props.class}`}>
      {props.label !== undefined && <div class="ev-label">{props.label}</div>}
      {props.text !== undefined && <div class="ev-text">{props.text}</div>}
      {props.children}
    </div>
  );
}

/** A claude stream-json line: session start, text, thinking, tool calls and results, the result. */
function StreamLine({ event }: { event: unknown }) {
  const parsed = ClaudeLine.safeParse(event);
  if (!parsed.success) return null;
  const line = parsed.data;
  switch (line.type) {
    case "system":
      return line.subtype === "init" ? (
        <Block class="sys" label={`session${line.model ? ` · ${line.model}` : ""}`} />
      ) : null;
    case "assistant":
      return (
        <>
          {blocks(line.message.content).map((b, i) => {
            const key = `${i}`;
            if (b.type === "text") return <Block key={key} class="assistant" text={b.text} />;
            if (b.type === "thinking") {
              return <Block key={key} class="thinking" label="thinking" text={b.thinking} />;
            }
            if (b.type === "tool_use") {
              return (
                <Block key={key} class="tool-call" label={`tool · ${b.name}`}>
                  <pre class="ev-code">{pretty(b.input)}</pre>
                </Block>
              );
            }
            return null;
          })}
          {line.error !== undefined && <Block class="note error" label={`error: ${line.error}`} />}
        </>
      );
    case "user":
      return (
        <>
          {blocks(line.message.content).map((b, i) =>
            b.type === "tool_result" ? (
              <Block
                key={`${i}`}
                class={b.is_error ? "tool-result error" : "tool-result"}
                label="result"
              >
                <pre class="ev-code">{toolResultText(b.content)}</pre>
              </Block>
            ) : null,
          )}
        </>
      );
    case "result":
      return (
        <Block
          class={line.is_error ? "final error" : "final"}
          label={`final result · ${resultFigures(line)}`}
          {...(line.result ? { text: line.result } : {})}
        />
      );
  }
}

/** One event of a live turn. */
export function LiveEventView({ ev }: { ev: LiveEvent }) {
  switch (ev.kind) {
    case "turn_start": {
      const m = ev.message;
      return (
        <Block
          class="start"
          label={
            <>
              <span>turn start · from </span>
              <strong class="from">{m.from}</strong>
              <span class="muted">{` · #${m.id} · ${ev.model} · ${ev.pending} pending`}</span>
              {m.redelivered && <span class="badge redelivered">redelivered</span>}
            </>
          }
          text={m.body}
        />
      );
    }
    case "stream":
      return <StreamLine event={ev.event} />;
    case "note":
      return <Block class="note" label="note" text={ev.text} />;
    case "turn_end":
      return (
        <Block
          class={ev.ok ? "end" : "end error"}
          label={`turn end · ${ev.result}`}
          {...(ev.note !== undefined ? { text: ev.note } : {})}
        />
      );
  }
}
