import * as z from "zod";
import { AgentName, Recipient, Sender } from "../names.js";
import { ApprovalId } from "./approvals.js";

/**
 * Questions (c0re): an agent asks the operator (`ask_operator`) or another agent (`ask`) and gets
 * the question's id at once; the answer — or `[expired]`, `[cancelled]` — arrives later in the
 * asker's inbox, quoting the question. Open threads are what is still pending against an agent.
 */

export const QuestionId = z.number().int().positive();
export type QuestionId = z.infer<typeof QuestionId>;

/** `open` until answered, expired (its ttl ran out) or cancelled (by its asker or the operator). */
export const QuestionState = z.enum(["open", "answered", "expired", "cancelled"]);
export type QuestionState = z.infer<typeof QuestionState>;

/** What was asked, of whom, and what came of it. */
export const Question = z.strictObject({
  id: QuestionId,
  asker: AgentName,
  /** `operator` or an agent. */
  target: Recipient,
  question: z.string(),
  /** Answers to choose from (a free-text answer is always possible too). */
  options: z.array(z.string()),
  /** Whether several options may be chosen. */
  multi: z.boolean(),
  /** Unix ms. */
  created_at: z.number().int(),
  /** Unix ms after which it is answered `[expired]`; null: it never expires. */
  expires_at: z.number().int().nullable(),
  state: QuestionState,
  /**
   * The answer: chosen options joined with ", ", the text, or both (`eu, us — eu first`); or
   * `[expired]`, `[cancelled]`.
   */
  answer: z.string().nullable(),
  answered_at: z.number().int().nullable(),
  /** Who answered or cancelled it: the target, the asker (cancel), `operator`, or `system` (expiry). */
  answered_by: Sender.nullable(),
});
export type Question = z.infer<typeof Question>;

/** A question's text: one to two thousand characters, not only whitespace. */
const QuestionText = z
  .string()
  .max(2000)
  .refine((t) => t.trim().length > 0, "the question must not be empty");
/** An option's label. */
const OptionLabel = z.string().trim().min(1).max(200);
/** The longest a question may stay open: a week. */
export const MAX_QUESTION_TTL_SECONDS = 7 * 24 * 3600;

/**
 * `hive.agent.<me>.ask` request (the `ask_operator` and `ask` tools): ask the operator or another
 * agent. Answered at once with the question's id; the answer comes later, by mail.
 */
export const AskRequest = z.strictObject({
  to: Recipient,
  question: QuestionText,
  options: z.array(OptionLabel).max(20).optional(),
  multi: z.boolean().optional(),
  ttl_seconds: z.number().int().min(1).max(MAX_QUESTION_TTL_SECONDS).optional(),
});
export type AskRequest = z.infer<typeof AskRequest>;

/** The reply to ask, answer, cancel: the question as it is now. */
export const QuestionResponse = z.strictObject({ question: Question });
export type QuestionResponse = z.infer<typeof QuestionResponse>;

/** `hive.agent.<me>.answer` request (the `answer` tool): answer a question put to the caller. */
export const AnswerRequest = z.strictObject({
  id: QuestionId,
  text: z.string().trim().min(1).max(4000),
});
export type AnswerRequest = z.infer<typeof AnswerRequest>;

/** `hive.agent.<me>.asks` request (`list_my_asks`): the caller's own questions, newest first. */
export const MyAsksRequest = z.strictObject({
  /** Closed ones too (default: open only). */
  all: z.boolean().optional(),
});
export type MyAsksRequest = z.infer<typeof MyAsksRequest>;
export const QuestionsResponse = z.strictObject({ questions: z.array(Question) });
export type QuestionsResponse = z.infer<typeof QuestionsResponse>;

/** `hive.agent.<me>.cancel_ask` request: cancel one of the caller's own open questions. */
export const CancelAskRequest = z.strictObject({ id: QuestionId });
export type CancelAskRequest = z.infer<typeof CancelAskRequest>;

/** `hive.op.questions` request: questions put to the operator, open first, newest first. */
export const OperatorQuestionsRequest = z.strictObject({
  /** Closed ones too, and agents' questions to each other. */
  all: z.boolean().optional(),
});
export type OperatorQuestionsRequest = z.infer<typeof OperatorQuestionsRequest>;

/**
 * `hive.op.answer` request: the operator answers a question put to them, with text, chosen
 * options (several only when the question is multi), or both.
 */
export const OperatorAnswerRequest = z
  .strictObject({
    id: QuestionId,
    text: z.string().trim().min(1).max(4000).optional(),
    options: z.array(OptionLabel).min(1).max(20).optional(),
  })
  .refine((a) => a.text !== undefined || a.options !== undefined, "give a text, options, or both");
export type OperatorAnswerRequest = z.infer<typeof OperatorAnswerRequest>;

/** `hive.op.cancel_question` request: the operator cancels any open question. */
export const CancelQuestionRequest = z.strictObject({ id: QuestionId });
export type CancelQuestionRequest = z.infer<typeof CancelQuestionRequest>;

/** `hive.events.questions` event: a question was asked or closed (every change, in order). */
export const QuestionEvent = z.strictObject({ question: Question });
export type QuestionEvent = z.infer<typeof QuestionEvent>;

/** One thing still pending against an agent. */
export const OpenThread = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("approval"),
    id: ApprovalId,
    /** The approval's summary ("spawn alice"). */
    summary: z.string(),
    /** Who asked (waiting on the operator). */
    submitter: AgentName,
    counterparty: z.literal("operator"),
    created_at: z.number().int(),
    age_seconds: z.number().int().nonnegative(),
  }),
  z.strictObject({
    kind: z.literal("question"),
    id: QuestionId,
    /** The question's text, cut to 120 characters. */
    summary: z.string(),
    asker: AgentName,
    target: Recipient,
    /**
     * The agent's part in it: `asker` (it waits on someone) or `target` (it owes the answer);
     * null in the hive-wide list for a thread the viewer is not part of.
     */
    role: z.enum(["asker", "target"]).nullable(),
    /** The other party, from the viewer's side (the target for an asker, the asker for a target). */
    counterparty: Recipient,
    created_at: z.number().int(),
    expires_at: z.number().int().nullable(),
    age_seconds: z.number().int().nonnegative(),
  }),
]);
export type OpenThread = z.infer<typeof OpenThread>;

/** `hive.agent.<me>.threads` request (`get_open_threads`): the manager's is hive-wide. */
export const ThreadsRequest = z.strictObject({});
/** `hive.op.threads` request: one agent's open threads, or every one in the hive. */
export const OperatorThreadsRequest = z.strictObject({ agent: AgentName.optional() });
export type OperatorThreadsRequest = z.infer<typeof OperatorThreadsRequest>;
export const ThreadsResponse = z.strictObject({ threads: z.array(OpenThread) });
export type ThreadsResponse = z.infer<typeof ThreadsResponse>;
