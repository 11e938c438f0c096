import { pages } from "../../wire.js";
import { FlowThread } from "../components/FlowThread.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { useAction } from "../lib/action.js";
import type { Flow } from "../state/flow.js";

/** Whose mail to show: everyone's, or one name's (those seen in what is loaded). */
function Filter({ flow }: { flow: Flow }) {
  const names = flow.names.value;
  const link = (name: string | undefined, label: string) => (
    <a
      key={label}
      href={pages.flow.url(name)}
      class={flow.agent === name ? "current" : undefined}
      aria-current={flow.agent === name ? "page" : undefined}
    >
      {label}
    </a>
  );
  return (
    <nav id="flow-filter" class="filter muted">
      show: {link(undefined, "all")}
      {names.map((n) => link(n, n))}
    </nav>
  );
}

/**
 * `/flow`: who wrote to whom, threads folded by `in_reply_to` (latest activity first), each
 * message's delivery state per recipient (a broadcast once, "acked by N of M"), live; older
 * pages on demand.
 */
export function FlowPanel({ flow }: { flow: Flow }) {
  const threads = flow.threads.value;
  const older = useAction();
  return (
    <Panel
      id="flow-panel"
      title={flow.agent === undefined ? "Message flow" : `Message flow: ${flow.agent}'s mail`}
    >
      <Filter flow={flow} />
      <ol id="flow" class="flow">
        {threads === null || threads.length === 0 ? (
          <li class="empty muted">{threads === null ? "loading…" : "no messages"}</li>
        ) : (
          threads.map((n) => <FlowThread key={n.message.id} node={n} />)
        )}
      </ol>
      {flow.hasOlder.value && (
        <div class="form-row">
          <button
            type="button"
            id="flow-older"
            class="secondary"
            disabled={older.busy.value}
            onClick={() => void older.run(() => flow.older())}
          >
            older messages
          </button>
          <span class="muted">{flow.count.value} loaded</span>
        </div>
      )}
      <ProblemLine id="flow-error" problem={flow.problem.value} />
    </Panel>
  );
}
