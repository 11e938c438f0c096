import type { AgentName, OpenThread } from "@hyperhive/shared/contract";
import { Age } from "../components/Age.js";
import { Counted } from "../components/Counted.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import type { Threads } from "../state/threads.js";

/** What the thread is from the agent's side, in a few words. */
function part(t: OpenThread): string {
  if (t.kind === "approval") return `${t.submitter} waits on the operator`;
  if (t.role === "asker") return `waits on ${t.counterparty}`;
  if (t.role === "target") return `owes ${t.counterparty} an answer`;
  return `${t.asker} waits on ${t.target}`;
}

/**
 * Agent page: what is still pending against the agent — approvals it submitted, questions it
 * asked (it waits) and questions it owes — each with its summary, the other party and its age;
 * the manager's is the hive's. Oldest first. Live: reloaded on the events that change it.
 */
export function ThreadsPanel({ name, threads }: { name: AgentName; threads: Threads }) {
  const list = threads.threads.value;
  return (
    <Panel
      id="threads-panel"
      title={<Counted title="Open threads" id="threads-count" items={list} />}
    >
      <ol id="threads" class="threads" data-agent={name}>
        {list === null || list.length === 0 ? (
          <li class="empty muted">{list === null ? "loading…" : "nothing open"}</li>
        ) : (
          list.map((t) => (
            <li
              key={`${t.kind}-${t.id}`}
              class={`thread-item kind-${t.kind}`}
              data-kind={t.kind}
              data-id={t.id}
              data-role={t.kind === "question" ? (t.role ?? "none") : "submitter"}
            >
              <span class="badge kind">
                {t.kind} #{t.id}
              </span>
              <span class="part muted" data-counterparty={t.counterparty}>
                {part(t)}
              </span>
              <span class="summary">{t.summary}</span>
              <span class="muted age">
                <Age since={t.created_at} /> ago
              </span>
            </li>
          ))
        )}
      </ol>
      <ProblemLine id="threads-error" problem={threads.problem.value} />
    </Panel>
  );
}
