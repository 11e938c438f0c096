import { useSignal } from "@preact/signals";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { type Problem, sendMessage, toProblem } from "../lib/api.js";
import { newClientId } from "../lib/format.js";
import type { Hive } from "../state/hive.js";

/** Dashboard: write to an agent as the operator. A failed send shows its typed error. */
export function SendPanel({ hive }: { hive: Hive }) {
  const chosen = useSignal("");
  const body = useSignal("");
  const sending = useSignal(false);
  const status = useSignal("");
  const problem = useSignal<Problem | null>(null);

  const names = (hive.agents.value ?? []).map((a) => a.name);
  // The first agent (the manager) until the operator picks one that still exists.
  const to = names.includes(chosen.value) ? chosen.value : (names[0] ?? "");

  const submit = async () => {
    problem.value = null;
    status.value = "sending…";
    sending.value = true;
    try {
      // A fresh client id per submit: a retry of this submit is stored once.
      const r = await sendMessage({ to, body: body.value, client_id: newClientId() });
      status.value = `sent #${r.id} to ${to}`;
      body.value = "";
    } catch (e) {
      status.value = "";
      problem.value = toProblem(e);
    } finally {
      sending.value = false;
    }
  };

  return (
    <Panel id="send-panel" title="Send a message">
      <form
        id="send-form"
        autocomplete="off"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          to{" "}
          <select
            id="send-to"
            name="to"
            required
            value={to}
            onChange={(e) => {
              chosen.value = e.currentTarget.value;
            }}
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <textarea
          id="send-body"
          name="body"
          rows={5}
          required
          placeholder="message body…"
          value={body.value}
          onInput={(e) => {
            body.value = e.currentTarget.value;
          }}
        />
        <div class="form-row">
          <button type="submit" id="send-button" disabled={sending.value || to === ""}>
            send
          </button>
          <span id="send-status" class="muted" role="status">
            {status.value}
          </span>
        </div>
        <ProblemLine id="send-error" problem={problem.value} />
      </form>
    </Panel>
  );
}
