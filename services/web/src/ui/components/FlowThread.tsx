import { Recipient } from "@hyperhive/shared/contract";
import type { FlowNode } from "../../flow-model.js";
import { isBroadcast } from "../../flow-model.js";
import { pages } from "../../wire.js";
import { clock } from "../lib/format.js";
import { Addressee, Receipts } from "./Receipts.js";

/** A name in the flow: a link to that one's mail (`system` and wake labels have none). */
function Who({ name, class: cls }: { name: string; class: string }) {
  const mailbox = Recipient.safeParse(name);
  return mailbox.success ? (
    <a class={cls} href={pages.flow.url(mailbox.data)}>
      {name}
    </a>
  ) : (
    <span class={cls}>{name}</span>
  );
}

/**
 * One message of the flow and, nested under it, the replies to it (foldable): who wrote to
 * whom, when, what, and where it stands with each recipient. A reply whose message is not shown
 * says what it answers.
 */
export function FlowThread({ node, nested = false }: { node: FlowNode; nested?: boolean }) {
  const m = node.message;
  return (
    <li class="flow-msg" data-id={m.id} data-broadcast={isBroadcast(m)} data-from={m.from}>
      <div class="msg-head">
        <span class="muted">#{m.id}</span>
        <Who name={m.from} class="from" />
        <span class="muted">→</span>
        {isBroadcast(m) ? <Addressee m={m} /> : <Who name={m.to} class="to" />}
        <span class="muted">{clock(m.sent_at)}</span>
        {!nested && m.reply_to !== null && (
          <span class="muted reply-to" title={m.reply_to.quote}>
            re #{m.reply_to.id} from {m.reply_to.from}: “{m.reply_to.quote}”
          </span>
        )}
        {!nested && m.reply_to === null && m.in_reply_to !== null && (
          <span class="muted reply-to">re #{m.in_reply_to}</span>
        )}
      </div>
      <div class="body">{m.body}</div>
      <Receipts m={m} />
      {node.replies.length > 0 && (
        <details class="thread" open>
          <summary class="muted">
            {node.replies.length} {node.replies.length === 1 ? "reply" : "replies"}
          </summary>
          <ol class="replies">
            {node.replies.map((r) => (
              <FlowThread key={r.message.id} node={r} nested />
            ))}
          </ol>
        </details>
      )}
    </li>
  );
}
