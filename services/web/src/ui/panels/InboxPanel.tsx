import { isBroadcast } from "../../flow-model.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { Receipts } from "../components/Receipts.js";
import { clock } from "../lib/format.js";
import type { Compose } from "../state/compose.js";
import type { Hive } from "../state/hive.js";

/**
 * Dashboard: messages to the operator, newest first, live; what each replies to; a broadcast
 * once, with how many agents acked it. Reply fills the send form (to the sender, in reply to
 * the message).
 */
export function InboxPanel({ hive, compose }: { hive: Hive; compose: Compose }) {
  const messages = hive.inbox.value;
  return (
    <Panel id="inbox-panel" title="Operator inbox">
      <ol id="inbox" class="inbox">
        {messages === null || messages.length === 0 ? (
          <li class="empty muted">{messages === null ? "loading…" : "no messages"}</li>
        ) : (
          messages.map((m) => (
            <li key={m.id} class="msg" data-id={m.id} data-broadcast={isBroadcast(m)}>
              <div class="msg-head">
                <span class="from">{m.from}</span>
                {isBroadcast(m) && <span class="badge broadcast">broadcast</span>}
                <span class="muted">{clock(m.sent_at)}</span>
                {m.in_reply_to !== null && (
                  <span class="muted reply-to" title={m.reply_to?.quote}>
                    re #{m.in_reply_to}
                    {m.reply_to !== null && ` (${m.reply_to.from})`}
                  </span>
                )}
                {compose.canReply(m) && (
                  <button
                    type="button"
                    class="small secondary reply"
                    onClick={() => compose.reply(m)}
                  >
                    reply
                  </button>
                )}
              </div>
              <div class="body">{m.body}</div>
              {isBroadcast(m) && <Receipts m={m} />}
            </li>
          ))
        )}
      </ol>
      <ProblemLine id="inbox-error" problem={hive.inboxProblem.value} />
    </Panel>
  );
}
