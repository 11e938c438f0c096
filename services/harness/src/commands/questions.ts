import { OPERATOR, type QuestionResponse } from "@hyperhive/shared";
import { quote } from "../message-text.js";
import type { SocketHandlers } from "../socket.js";
import type { CommandContext, RunningTurn } from "./mod.js";

type QuestionCommand =
  | "ask_operator"
  | "ask"
  | "answer"
  | "list_my_asks"
  | "cancel_ask"
  | "get_open_threads";

/**
 * Questions and open threads, bridged to c0re on `hive.agent.<me>.*` (c0re takes the asker from
 * the subject and decides everything: who may be asked, who may answer or cancel, the manager's
 * hive-wide threads). A question a turn asks is remembered like a send.
 */
export function questionCommands(ctx: CommandContext): Pick<SocketHandlers, QuestionCommand> {
  const asked = (turn: RunningTurn | undefined, r: QuestionResponse): QuestionResponse => {
    const q = r.question;
    turn?.memory.record({ kind: "asked", id: q.id, to: q.target, quote: quote(q.question) });
    return r;
  };
  return {
    ask_operator: async (params) => {
      const turn = ctx.currentTurn();
      return asked(turn, await ctx.hive.ask({ to: OPERATOR, ...params }, ctx.signal));
    },
    ask: async (params) => {
      const turn = ctx.currentTurn();
      return asked(turn, await ctx.hive.ask(params, ctx.signal));
    },
    // On the socket the question is `question_id` (a line's `id` is its own); c0re's is `id`.
    answer: ({ question_id, text }) => ctx.hive.answer({ id: question_id, text }, ctx.signal),
    list_my_asks: (params) => ctx.hive.myAsks(params, ctx.signal),
    cancel_ask: ({ question_id }) => ctx.hive.cancelAsk({ id: question_id }, ctx.signal),
    get_open_threads: () => ctx.hive.threads(ctx.signal),
  };
}
