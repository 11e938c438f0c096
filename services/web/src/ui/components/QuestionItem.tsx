import { OPERATOR, type Question } from "@hyperhive/shared/contract";
import { useSignal } from "@preact/signals";
import type { AnswerBody } from "../../wire.js";
import { useAction } from "../lib/action.js";
import { answerQuestion, cancelQuestion } from "../lib/api.js";
import { clock } from "../lib/format.js";
import type { Questions } from "../state/questions.js";
import { ActionStatus } from "./ActionStatus.js";
import { Age, Countdown } from "./Age.js";

/** What the operator's choices send: the chosen options, the typed text, or both (c0re joins them). */
function answerBody(chosen: readonly string[], typed: string): AnswerBody | null {
  const text = typed.trim();
  if (chosen.length === 0) return text === "" ? null : { text };
  if (text === "") return { options: [...chosen] };
  return { options: [...chosen], text };
}

/**
 * The answer form: the options as radio buttons (checkboxes when several may be chosen), a
 * free-text answer beside them, answer and cancel. The question leaves the open list by its
 * event (or the reply, if the event is late).
 */
function AnswerForm({ q, questions }: { q: Question; questions: Questions }) {
  const chosen = useSignal<readonly string[]>([]);
  const typed = useSignal("");
  const action = useAction();
  const body = answerBody(chosen.value, typed.value);
  const toggle = (option: string, on: boolean) => {
    const rest = chosen.value.filter((o) => o !== option);
    chosen.value = !on ? rest : q.multi ? [...rest, option] : [option];
  };
  const closed = (r: { question: Question }) => {
    questions.noteReply(r.question);
    return r.question.state;
  };
  return (
    <form
      class="answer"
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        if (body !== null) void action.run(() => answerQuestion(q.id, body), closed);
      }}
    >
      {q.options.length > 0 && (
        <fieldset class="options" data-multi={q.multi}>
          {q.options.map((o) => (
            <label key={o} class="option">
              <input
                type={q.multi ? "checkbox" : "radio"}
                name={`q${q.id}-option`}
                value={o}
                checked={chosen.value.includes(o)}
                onChange={(e) => toggle(o, e.currentTarget.checked)}
              />{" "}
              {o}
            </label>
          ))}
        </fieldset>
      )}
      <div class="form-row">
        <input
          class="answer-text"
          type="text"
          maxLength={4000}
          placeholder={q.options.length > 0 ? "or answer in your own words" : "your answer"}
          value={typed.value}
          onInput={(e) => {
            typed.value = e.currentTarget.value;
          }}
        />
        <button type="submit" class="answer-go" disabled={action.busy.value || body === null}>
          answer
        </button>
        <button
          type="button"
          class="secondary cancel-question"
          disabled={action.busy.value}
          onClick={() => void action.run(() => cancelQuestion(q.id), closed)}
        >
          cancel question
        </button>
      </div>
      <ActionStatus action={action} />
    </form>
  );
}

/** When it expires, or that it does not. */
function Expiry({ q }: { q: Question }) {
  if (q.state !== "open") return null;
  if (q.expires_at === null) return <span class="muted expiry">no expiry</span>;
  return (
    <span class="muted expiry">
      expires in <Countdown until={q.expires_at} />
    </span>
  );
}

/** How it closed: the answer, or `[expired]` / `[cancelled]`, by whom and when. */
function Outcome({ q }: { q: Question }) {
  return (
    <p class="outcome muted">
      {q.state} by {q.answered_by ?? "?"}
      {q.answered_at !== null && ` at ${clock(q.answered_at)}`}
      {q.state === "answered" && q.answer !== null && <span class="answer-text">: {q.answer}</span>}
    </p>
  );
}

/**
 * One question: who asked whom, how long ago, until when, and the question. Open and put to the
 * operator: the answer form. Open between agents: only cancel. Closed: how it ended.
 */
export function QuestionItem({ q, questions }: { q: Question; questions: Questions }) {
  const mine = q.target === OPERATOR;
  return (
    <li class={`question question-${q.state}`} data-id={q.id} data-state={q.state}>
      <div class="question-head">
        <span class="muted">#{q.id}</span>
        <span class="from asker">{q.asker}</span>
        {!mine && <span class="muted target">→ {q.target}</span>}
        <span class="muted">
          <Age since={q.created_at} /> ago
        </span>
        <Expiry q={q} />
        <span class={`badge question-state state-${q.state}`}>{q.state}</span>
      </div>
      <div class="body question-text">{q.question}</div>
      {q.state !== "open" ? (
        <Outcome q={q} />
      ) : mine ? (
        <AnswerForm q={q} questions={questions} />
      ) : (
        <CancelOnly q={q} questions={questions} />
      )}
    </li>
  );
}

/** An agent's question to another, still open: the operator may only cancel it. */
function CancelOnly({ q, questions }: { q: Question; questions: Questions }) {
  const action = useAction();
  return (
    <div class="form-row">
      {q.options.length > 0 && <span class="muted">options: {q.options.join(" | ")}</span>}
      <button
        type="button"
        class="small secondary cancel-question"
        disabled={action.busy.value}
        onClick={() =>
          void action.run(
            () => cancelQuestion(q.id),
            (r) => {
              questions.noteReply(r.question);
              return r.question.state;
            },
          )
        }
      >
        cancel
      </button>
      <ActionStatus action={action} />
    </div>
  );
}
