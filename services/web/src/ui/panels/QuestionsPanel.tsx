import type { Question } from "@hyperhive/shared/contract";
import type { ComponentChildren } from "preact";
import { Counted } from "../components/Counted.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { QuestionItem } from "../components/QuestionItem.js";
import type { Hive } from "../state/hive.js";
import type { Questions } from "../state/questions.js";

/** Closed questions, and agents' questions to each other, shown before older ones are left out. */
export const QUESTIONS_SHOWN = 20;

/** A list behind a toggle (at most {@link QUESTIONS_SHOWN}); nothing when it is empty. */
function Folded(props: {
  id: string;
  list: readonly Question[];
  questions: Questions;
  open?: boolean;
  class?: string;
  children: ComponentChildren;
}) {
  if (props.list.length === 0) return null;
  return (
    <details id={props.id} class={`history ${props.class ?? ""}`} open={props.open}>
      <summary>{props.children}</summary>
      <ol class="questions">
        {props.list.slice(0, QUESTIONS_SHOWN).map((q) => (
          <QuestionItem key={q.id} q={q} questions={props.questions} />
        ))}
      </ol>
    </details>
  );
}

/**
 * Dashboard: the questions agents put to the operator (`ask_operator`), oldest first, each with
 * its answer form; closed ones behind a toggle; agents' questions to each other in a quieter
 * list below. Live from `question` events only: the page never asks for the list again.
 */
export function QuestionsPanel({ hive }: { hive: Hive }) {
  const { questions } = hive;
  const open = questions.open.value;
  const closed = questions.closed.value;
  const between = questions.between.value;
  const betweenOpen = between.filter((q) => q.state === "open").length;
  return (
    <Panel
      id="questions-panel"
      title={<Counted title="Questions" id="questions-count" items={open} />}
    >
      <ol id="questions" class="questions">
        {open === null || open.length === 0 ? (
          <li class="empty muted">{open === null ? "loading…" : "no questions for you"}</li>
        ) : (
          open.map((q) => <QuestionItem key={q.id} q={q} questions={questions} />)
        )}
      </ol>
      <Folded id="questions-closed" list={closed} questions={questions}>
        closed ({closed.length}
        {closed.length > QUESTIONS_SHOWN ? `, the latest ${QUESTIONS_SHOWN} shown` : ""})
      </Folded>
      <Folded
        id="questions-between"
        class="quiet"
        list={between}
        questions={questions}
        open={betweenOpen > 0}
      >
        between agents ({betweenOpen} open, {between.length - betweenOpen} closed)
      </Folded>
      <ProblemLine id="questions-error" problem={questions.problem.value} />
    </Panel>
  );
}
