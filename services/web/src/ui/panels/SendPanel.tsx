import { BROADCAST } from "@hyperhive/shared/contract";
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { type Problem, sendMessage, toProblem } from "../lib/api.js";
import { newClientId } from "../lib/format.js";
import type { Compose } from "../state/compose.js";
import type { Hive } from "../state/hive.js";

/**
 * Dashboard: write as the operator to one agent or to every agent (`*`, a broadcast), in reply
 * to a message when the inbox's Reply started it. A failed send shows its typed error.
 */
export function SendPanel({ hive, compose }: { hive: Hive; compose: Compose }) {
  const sending = useSignal(false);
  const status = useSignal("");
  const problem = useSignal<Problem | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const focus = compose.focus.value;
  useEffect(() => {
    if (focus > 0) box.current?.focus();
  }, [focus]);

  const names = (hive.agents.value ?? []).map((a) => a.name);
  const chosen = compose.to.value;
  // The first agent (the manager) until the operator picks one that still exists, or everyone.
  const to = chosen === BROADCAST || names.includes(chosen) ? chosen : (names[0] ?? "");
  const replyTo = compose.replyTo.value;

  const submit = async () => {
    problem.value = null;
    status.value = "sending…";
    sending.value = true;
    try {
      // A fresh client id per submit: a retry of this submit is stored once.
      const r = await sendMessage({
        to,
        body: compose.body.value,
        client_id: newClientId(),
        ...(replyTo === null ? {} : { in_reply_to: replyTo.id }),
      });
      status.value = `sent #${r.id} to ${to === BROADCAST ? "every agent" : to}`;
      compose.body.value = "";
      compose.replyTo.value = null;
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
              compose.to.value = e.currentTarget.value;
            }}
          >
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
            {names.length > 0 && <option value={BROADCAST}>* (every agent)</option>}
          </select>
        </label>
        {replyTo !== null && (
          <p id="send-reply-to" class="reply-to muted" data-id={replyTo.id}>
            in reply to #{replyTo.id} from {replyTo.from}: “{replyTo.quote}”{" "}
            <button
              type="button"
              id="send-reply-clear"
              class="small secondary"
              onClick={() => {
                compose.replyTo.value = null;
              }}
            >
              not a reply
            </button>
          </p>
        )}
        <textarea
          id="send-body"
          name="body"
          rows={5}
          required
          ref={box}
          placeholder={to === BROADCAST ? "to every agent…" : "message body…"}
          value={compose.body.value}
          onInput={(e) => {
            compose.body.value = e.currentTarget.value;
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
