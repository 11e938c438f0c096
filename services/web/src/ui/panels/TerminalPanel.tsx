import type { AgentName } from "@hyperhive/shared/contract";
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { Panel } from "../components/Panel.js";
import { toProblem } from "../lib/api.js";
import { HELP, parseLine, runCommand } from "../lib/terminal.js";
import type { Hive } from "../state/hive.js";

/** One line typed and what came back. */
interface Entry {
  readonly n: number;
  readonly input: string;
  /** `running` until its answer; `error` is a typed error (`code: message`). */
  readonly kind: "running" | "ok" | "error" | "info";
  readonly output: string;
}

/** Entries kept in the transcript; older ones are dropped. */
const KEPT = 200;

const HELP_TEXT = HELP.map(([cmd, what]) => `${cmd.padEnd(14)} ${what}`).join("\n");

/**
 * Agent page: a terminal-like input. Slash commands go to the agent's harness (`/model`,
 * `/compact`, `/new-session`, `/cancel`; `/help` lists them), anything else is a message to the
 * agent. The transcript shows each line and its answer (result or typed error); the effects
 * (state, compaction, a cancelled turn) show live in the badge and the turns below.
 */
export function TerminalPanel({ name, hive }: { name: AgentName; hive: Hive }) {
  const entries = useSignal<readonly Entry[]>([]);
  const line = useSignal("");
  const history = useSignal<readonly string[]>([]);
  /** Where ArrowUp/ArrowDown is in the history; its length when at the fresh line. */
  const cursor = useSignal(0);
  const counter = useSignal(0);
  const log = useRef<HTMLOListElement>(null);
  const shown = entries.value;
  // Like a terminal: the latest line and its answer stay in view.
  useEffect(() => {
    const el = log.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [shown]);

  const settle = (n: number, kind: Entry["kind"], output: string) => {
    entries.value = entries.value.map((e) => (e.n === n ? { ...e, kind, output } : e));
  };

  const submit = () => {
    const input = line.value;
    const cmd = parseLine(input);
    if (cmd === null) return;
    line.value = "";
    history.value = [...history.value, input].slice(-50);
    cursor.value = history.value.length;
    const n = ++counter.value;
    const entry: Entry = { n, input, kind: "running", output: "…" };
    entries.value = [...entries.value, entry].slice(-KEPT);
    switch (cmd.kind) {
      case "help":
        settle(n, "info", HELP_TEXT);
        return;
      case "invalid":
        settle(n, "error", cmd.message);
        return;
      case "show_model": {
        const model = hive.agents.value?.find((a) => a.name === name)?.model ?? null;
        settle(n, "info", model === null ? "its harness has not said yet" : `model ${model}`);
        return;
      }
      default:
        runCommand(name, cmd).then(
          (out) => settle(n, "ok", out),
          (e: unknown) => {
            const p = toProblem(e);
            settle(n, "error", `${p.code}: ${p.message}`);
          },
        );
    }
  };

  const recall = (step: -1 | 1) => {
    const h = history.value;
    const at = Math.min(h.length, Math.max(0, cursor.value + step));
    cursor.value = at;
    line.value = h[at] ?? "";
  };

  return (
    <Panel id="terminal-panel" title="Terminal">
      <ol id="term-log" class="term-log" aria-live="polite" ref={log}>
        {shown.length === 0 && (
          <li class="muted term-hint">
            type a message for {name}, or a command: /model, /compact, /new-session, /cancel, /help
          </li>
        )}
        {shown.map((e) => (
          <li key={e.n} class={`term-entry kind-${e.kind}`} data-n={e.n} data-kind={e.kind}>
            <div class="term-in">{e.input}</div>
            <div class="term-out">{e.output}</div>
          </li>
        ))}
      </ol>
      <form
        id="term-form"
        class="term-form"
        autocomplete="off"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <span class="prompt" aria-hidden="true">
          ›
        </span>
        <input
          id="term-input"
          type="text"
          spellcheck={false}
          aria-label={`message or command for ${name}`}
          placeholder="/help"
          value={line.value}
          onInput={(e) => {
            line.value = e.currentTarget.value;
          }}
          onKeyDown={(e) => {
            if (e.key === "ArrowUp") {
              e.preventDefault();
              recall(-1);
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              recall(1);
            }
          }}
        />
      </form>
    </Panel>
  );
}
