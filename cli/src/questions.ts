import {
  OPERATOR,
  type OperatorAnswerRequest,
  type Question,
  type QuestionResponse,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { askHive } from "./client.js";
import type { Output } from "./output.js";
import { ago, cell, inTime } from "./table.js";

/**
 * `hive questions`, `hive answer`, `hive cancel-question`: the operator's side of c0re's
 * questions. An agent's `ask_operator` shows here; the answer (or `[cancelled]`) reaches the
 * asker's inbox as a message quoting the question.
 */

/** A question's text in a line: at most 80 characters, quoted. */
function quoted(q: Question): string {
  return JSON.stringify(cell(q.question, 80));
}

/** Who asked whom: `question #4 from manager` (to the operator), `question #5 from alice to bob`. */
export function questionLabel(q: Question): string {
  const to = q.target === OPERATOR ? "" : ` to ${q.target}`;
  return `question #${q.id} from ${q.asker}${to}`;
}

/** Where it stands: `open (expires in 8m)`, `answered by operator 2m ago`, `expired 1h ago`. */
function standing(q: Question, now: number): string {
  switch (q.state) {
    case "open":
      return q.expires_at === null ? "open" : `open (expires ${inTime(q.expires_at - now)})`;
    case "answered":
      return `answered by ${q.answered_by ?? "?"} ${ago(now - (q.answered_at ?? now))}`;
    case "expired":
    case "cancelled": {
      const by = q.state === "cancelled" && q.answered_by ? ` by ${q.answered_by}` : "";
      return `${q.state}${by} ${ago(now - (q.answered_at ?? now))}`;
    }
  }
}

/**
 * One question as the operator reads it, whole (it is what they answer):
 *
 *     #4 manager -> operator, 2m ago, open (expires in 8m)
 *       Deploy the new build now?
 *       options: yes | no
 */
export function formatQuestion(q: Question, now: number): string {
  const head = `#${q.id} ${q.asker} -> ${q.target}, ${ago(now - q.created_at)}, ${standing(q, now)}`;
  const lines = [head, ...q.question.split("\n").map((l) => `  ${l}`)];
  if (q.options.length > 0) {
    const which = q.multi ? "options (one or more)" : "options";
    lines.push(`  ${which}: ${q.options.join(" | ")}`);
  }
  if (q.state === "answered" && q.answer !== null) {
    lines.push(`  answer: ${q.answer.replaceAll("\n", "\n    ")}`);
  }
  return lines.join("\n");
}

/** `hive questions [--all]`: c0re lists open ones first, newest first. */
export async function questions(root: string, all: boolean, out: Output): Promise<void> {
  const res = await askHive(root, subjects.op.questions, rpcs.opQuestions, all ? { all } : {});
  const now = Date.now();
  const text = res.questions.map((q) => formatQuestion(q, now)).join("\n");
  out.result(res, text !== "" ? text : all ? "(no questions)" : "(no open questions)");
}

/** What the operator did to a question, the way its asker hears of it. */
function closed(verb: string, res: QuestionResponse, tail: string, out: Output): void {
  const q = res.question;
  out.result(res, `${verb} ${questionLabel(q)} (${quoted(q)})${tail}`);
}

/**
 * `hive answer <id> [<text>] [--option LABEL]...`. Not tried again once c0re took it (a second
 * answer would be a conflict, and the asker must hear one).
 */
export async function answer(root: string, req: OperatorAnswerRequest, out: Output): Promise<void> {
  const res = await askHive(root, subjects.op.answer, rpcs.opAnswer, req, { retryOn: "unheard" });
  closed("answered", res, `: ${res.question.answer ?? ""}`, out);
}

/** `hive cancel-question <id>`: any open question; its asker gets `[cancelled]`. */
export async function cancelQuestion(root: string, id: number, out: Output): Promise<void> {
  const res = await askHive(
    root,
    subjects.op.cancelQuestion,
    rpcs.opCancelQuestion,
    { id },
    { retryOn: "unheard" },
  );
  closed("cancelled", res, `; ${res.question.asker} is told [cancelled]`, out);
}
