import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { clock } from "../lib/format.js";
import type { Hive } from "../state/hive.js";

/** Dashboard: messages agents sent to the operator, newest first, live. */
export function InboxPanel({ hive }: { hive: Hive }) {
  const messages = hive.inbox.value;
  return (
    <Panel id="inbox-panel" title="Operator inbox">
      <ol id="inbox" class="inbox">
        {messages === null || messages.length === 0 ? (
          <li class="empty muted">{messages === null ? "loading…" : "no messages"}</li>
        ) : (
          messages.map((m) => (
            <li key={m.id} class="msg" data-id={m.id}>
              <div class="msg-head">
                <span class="from">{m.from}</span>
                <span class="muted">{clock(m.sent_at)}</span>
                {m.in_reply_to !== null && <span class="muted">re #{m.in_reply_to}</span>}
              </div>
              <div class="body">{m.body}</div>
            </li>
          ))
        )}
      </ol>
      <ProblemLine id="inbox-error" problem={hive.inboxProblem.value} />
    </Panel>
  );
}
