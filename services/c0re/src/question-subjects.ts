import {
  type AgentName,
  ErrorCode,
  HiveError,
  type Logger,
  type NatsConnection,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import type { Msg } from "@nats-io/transport-node";
import type { Questions } from "./questions.js";
import type { Registry } from "./registry.js";
import type { OpenThreads } from "./threads.js";

export interface QuestionSubjectsOptions {
  nc: NatsConnection;
  log: Logger;
  registry: Registry;
  questions: Questions;
  threads: OpenThreads;
}

/**
 * Serves questions and open threads (queue group c0re): an agent's
 * `hive.agent.<caller>.ask|answer|asks|cancel_ask|threads` and the operator's
 * `hive.op.questions|answer|cancel_question|threads`. The caller is the subject's second token,
 * never the payload: a token that is no agent name is a `bad_request`, one that names no active
 * agent of the hive `forbidden`.
 */
export function serveQuestions(o: QuestionSubjectsOptions): Service[] {
  const { nc, log, registry, questions, threads } = o;
  const opts = { queue: "c0re", log };
  const w = subjects.agentWildcard;
  const op = subjects.op;

  /** The calling agent, if it is an active one. */
  const caller = (msg: Msg): AgentName => {
    const { name, row } = registry.caller(msg.subject);
    if (!row) {
      throw new HiveError(ErrorCode.Forbidden, `${name} is not an active agent of this hive`);
    }
    return row.name;
  };

  return [
    serve(nc, w.ask, rpcs.ask, (r, m) => ({ question: questions.ask(caller(m), r) }), opts),
    serve(
      nc,
      w.answer,
      rpcs.answer,
      (r, m) => ({ question: questions.answerAsAgent(caller(m), r) }),
      opts,
    ),
    serve(
      nc,
      w.asks,
      rpcs.myAsks,
      (r, m) => ({ questions: questions.mine(caller(m), r.all ?? false) }),
      opts,
    ),
    serve(
      nc,
      w.cancelAsk,
      rpcs.cancelAsk,
      (r, m) => ({ question: questions.cancelByAsker(caller(m), r.id) }),
      opts,
    ),
    serve(nc, w.threads, rpcs.threads, (_r, m) => ({ threads: threads.of(caller(m)) }), opts),
    serve(
      nc,
      op.questions,
      rpcs.opQuestions,
      (r) => ({ questions: questions.forOperator(r.all ?? false) }),
      opts,
    ),
    serve(nc, op.answer, rpcs.opAnswer, (r) => ({ question: questions.answerAsOperator(r) }), opts),
    serve(
      nc,
      op.cancelQuestion,
      rpcs.opCancelQuestion,
      (r) => ({ question: questions.cancelByOperator(r.id) }),
      opts,
    ),
    serve(
      nc,
      op.threads,
      rpcs.opThreads,
      (r) => ({ threads: r.agent === undefined ? threads.all() : threads.of(r.agent) }),
      opts,
    ),
  ];
}
