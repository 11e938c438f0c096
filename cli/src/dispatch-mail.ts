import type { HistoryRequest, OperatorAnswerRequest } from "@hyperhive/shared";
import {
  agentArgument,
  type CommandDef,
  EXIT,
  idArgument,
  intOption,
  onlyPositional,
  parseCommand,
  recipientArgument,
  sendTargetArgument,
  UsageError,
} from "./args.js";
import { commands } from "./catalog.js";
import { inbox, send } from "./commands.js";
import { history } from "./history.js";
import type { Output } from "./output.js";
import { rootOf } from "./paths.js";
import { answer, cancelQuestion, questions } from "./questions.js";
import { threads } from "./threads.js";
import { MOMENT_FORMS, parseMoment } from "./when.js";

/**
 * The commands about conversations — mail (`send`, `inbox`, `history`), questions (`questions`,
 * `answer`, `cancel-question`) and open threads (`threads`): each command line checked whole,
 * every mistake a UsageError before anything reaches the hive, then run.
 */

/** The commands this module runs. */
export const MAIL_COMMANDS = [
  "send",
  "inbox",
  "history",
  "questions",
  "answer",
  "cancel-question",
  "threads",
] as const;
export type MailCommandName = (typeof MAIL_COMMANDS)[number];

/** Whether `name` is one of {@link MAIL_COMMANDS}. */
export function isMailCommand(name: string): name is MailCommandName {
  return (MAIL_COMMANDS as readonly string[]).includes(name);
}

/** A `--since` / `--until` value as unix ms; anything else is named as a usage error. */
function momentOption(def: CommandDef, name: string, value: string, now: number): number {
  const t = parseMoment(value, now);
  if (t === undefined) {
    throw new UsageError(
      def,
      `--${name} must be a time: ${MOMENT_FORMS}; not ${JSON.stringify(value)}`,
    );
  }
  return t;
}

/** What `hive history` asks the broker, from its options (only the ones given). */
function historyRequest(
  def: CommandDef,
  v: {
    agent?: string | undefined;
    thread?: string | undefined;
    since?: string | undefined;
    until?: string | undefined;
    limit?: string | undefined;
    before?: string | undefined;
  },
): HistoryRequest {
  const now = Date.now();
  const req: HistoryRequest = { limit: intOption(def, "limit", v.limit, 50, { min: 1, max: 500 }) };
  if (v.agent !== undefined) req.agent = recipientArgument(def, v.agent);
  if (v.thread !== undefined) req.thread = idArgument(def, "--thread", v.thread);
  if (v.before !== undefined) req.before_id = idArgument(def, "--before", v.before);
  if (v.since !== undefined) req.since = momentOption(def, "since", v.since, now);
  if (v.until !== undefined) req.until = momentOption(def, "until", v.until, now);
  if (req.since !== undefined && req.until !== undefined && req.until <= req.since) {
    throw new UsageError(def, "--until must be later than --since");
  }
  return req;
}

/**
 * What `hive answer` sends: text, options, or both (at least one; none empty, no option twice).
 * Whether the options are the question's, and several allowed, is c0re's to say; with both, c0re
 * answers with both (`eu, us — eu first`).
 */
function answerRequest(
  def: CommandDef,
  id: number,
  text: string | undefined,
  options: readonly string[],
): OperatorAnswerRequest {
  if (text?.trim() === "") {
    throw new UsageError(def, "<text> is empty: give one, or answer with --option LABEL");
  }
  if (options.some((o) => o.trim() === "")) {
    throw new UsageError(def, "--option is empty: give one of the question's options");
  }
  const twice = options.find((o, i) => options.indexOf(o) !== i);
  if (twice !== undefined) {
    throw new UsageError(def, `--option ${JSON.stringify(twice)} is given twice`);
  }
  if (text === undefined) {
    if (options.length === 0) throw new UsageError(def, "missing <text> (or --option LABEL)");
    return { id, options: [...options] };
  }
  if (options.length === 0) return { id, text };
  return { id, options: [...options], text };
}

/** Runs one of {@link MAIL_COMMANDS} with its own arguments; resolves with the exit code. */
export async function runMailCommand(
  name: MailCommandName,
  rest: string[],
  out: Output,
): Promise<number> {
  switch (name) {
    case "send": {
      const def = commands.send;
      const { values, positionals } = parseCommand(def, rest);
      const [to = "", body = ""] = positionals;
      const reply = values["in-reply-to"];
      const inReplyTo = reply === undefined ? undefined : idArgument(def, "--in-reply-to", reply);
      await send(rootOf(values.root), sendTargetArgument(def, to), body, out, inReplyTo);
      return EXIT.ok;
    }
    case "inbox": {
      const def = commands.inbox;
      const { values } = parseCommand(def, rest);
      const limit = intOption(def, "limit", values.limit, 50, { min: 1, max: 500 });
      await inbox(rootOf(values.root), limit, out);
      return EXIT.ok;
    }
    case "history": {
      const def = commands.history;
      const { values } = parseCommand(def, rest);
      await history(rootOf(values.root), historyRequest(def, values), out);
      return EXIT.ok;
    }
    case "questions": {
      const { values } = parseCommand(commands.questions, rest);
      await questions(rootOf(values.root), values.all === true, out);
      return EXIT.ok;
    }
    case "answer": {
      const def = commands.answer;
      const { values, positionals } = parseCommand(def, rest);
      const [id = "", text] = positionals;
      const req = answerRequest(def, idArgument(def, "<id>", id), text, values.option ?? []);
      await answer(rootOf(values.root), req, out);
      return EXIT.ok;
    }
    case "cancel-question": {
      const def = commands["cancel-question"];
      const { values, positionals } = parseCommand(def, rest);
      const id = idArgument(def, "<id>", onlyPositional(def, positionals));
      await cancelQuestion(rootOf(values.root), id, out);
      return EXIT.ok;
    }
    case "threads": {
      const def = commands.threads;
      const { values, positionals } = parseCommand(def, rest);
      const [agent] = positionals;
      const who = agent === undefined ? undefined : agentArgument(def, agent);
      await threads(rootOf(values.root), who, out);
      return EXIT.ok;
    }
  }
}
