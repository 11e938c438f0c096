import {
  type AgentName,
  type AnswerRequest,
  type AskRequest,
  type Cancel,
  type Clock,
  ErrorCode,
  HiveError,
  type Logger,
  OPERATOR,
  type OperatorAnswerRequest,
  type Question,
  type QuestionId,
  SYSTEM,
} from "@hyperhive/shared";
import type { Events } from "./events.js";
import type { Greeter } from "./greeter.js";
import { askedMessage, outcomeMessage, withdrawnMessage } from "./question-messages.js";
import type { Closing, Notice, QuestionsStore } from "./questions-store.js";
import type { Registry } from "./registry.js";

/** An agent may have at most this many questions open at once: a looping agent cannot flood. */
export const MAX_OPEN_ASKS = 50;
/** The longest one timer waits (setTimeout's limit); a later deadline is re-armed on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface QuestionsOptions {
  store: QuestionsStore;
  registry: Registry;
  events: Events;
  greeter: Greeter;
  clock: Clock;
  log: Logger;
}

/**
 * Questions: an agent asks the operator or another agent and has the id at once; the answer,
 * `[expired]` or `[cancelled]` reaches the asker later as a system message quoting the question.
 * A target agent is asked by a system message too, and told when the question closes without
 * its answer (the operator sees questions on the dashboard and in the CLI). Every change is
 * stored, then published on `hive.events.questions`. Deadlines run on the clock with one timer,
 * for the earliest. A message the broker has not taken when c0re stops is sent again at the next
 * start (with the same client id, so it lands once).
 */
export class Questions {
  readonly #o: QuestionsOptions;
  #timer: Cancel | undefined;
  #running = false;
  /** Client ids of the messages being delivered: each is sent by one delivery at a time. */
  readonly #sending = new Set<string>();

  constructor(o: QuestionsOptions) {
    this.#o = o;
  }

  /** Expires what fell due while c0re was down, sends what was not delivered, arms the timer. */
  start(): void {
    this.#running = true;
    this.#expireDue();
    for (const { question, notice } of this.#o.store.untold()) this.#tell(question, notice);
  }

  /** Stops the deadline timer (messages in flight end with the greeter's stop signal). */
  stop(): void {
    this.#running = false;
    this.#timer?.();
    this.#timer = undefined;
  }

  /** `asker` asks the operator or an active agent (not itself). */
  ask(asker: AgentName, req: AskRequest): Question {
    const { store, registry, clock, events } = this.#o;
    const options = req.options ?? [];
    const multi = req.multi ?? false;
    if (req.to === asker) throw new HiveError(ErrorCode.BadRequest, "you cannot ask yourself");
    if (req.to !== OPERATOR) {
      const row = registry.get(req.to);
      if (!row || row.tombstoned_at !== null) {
        throw new HiveError(ErrorCode.NotFound, `there is no active agent named ${req.to}`);
      }
    }
    if (multi && options.length === 0) {
      throw new HiveError(ErrorCode.BadRequest, "multi needs options to choose from");
    }
    const twice = options.find((o, i) => options.indexOf(o) !== i);
    if (twice !== undefined) {
      throw new HiveError(ErrorCode.BadRequest, `option "${twice}" is listed twice`);
    }
    if (store.byAsker(asker, false).length >= MAX_OPEN_ASKS) {
      throw new HiveError(
        ErrorCode.Conflict,
        `you have ${MAX_OPEN_ASKS} open questions; cancel some (list_my_asks, cancel_ask) first`,
      );
    }
    const now = clock.now();
    const q = store.add({
      asker,
      target: req.to,
      question: req.question,
      options,
      multi,
      created_at: now,
      expires_at: req.ttl_seconds === undefined ? null : now + req.ttl_seconds * 1000,
    });
    events.question(q);
    if (q.target !== OPERATOR) this.#tell(q, "asked");
    if (q.expires_at !== null) this.#arm();
    return q;
  }

  /** The target agent answers a question put to it. */
  answerAsAgent(target: AgentName, req: AnswerRequest): Question {
    const q = this.#o.store.get(req.id);
    if (!q || q.target !== target) {
      throw new HiveError(ErrorCode.NotFound, `no question #${req.id} was put to you`);
    }
    return this.#close(this.#open(q), { state: "answered", answer: req.text, by: target });
  }

  /**
   * The operator answers a question put to them: the chosen options (which must be the
   * question's own; several only when it is multi) joined with ", ", the text, or both (the
   * options, " — ", the text).
   */
  answerAsOperator(req: OperatorAnswerRequest): Question {
    const q = this.#o.store.get(req.id);
    if (!q) throw new HiveError(ErrorCode.NotFound, `no question #${req.id}`);
    if (q.target !== OPERATOR) {
      throw new HiveError(
        ErrorCode.NotFound,
        `question #${q.id} was put to ${q.target}, not the operator (${q.asker} asked it)`,
      );
    }
    this.#open(q);
    const chosen = req.options ?? [];
    for (const o of chosen) {
      if (!q.options.includes(o)) {
        const known = q.options.map((k) => `"${k}"`).join(", ") || "none";
        throw new HiveError(
          ErrorCode.BadRequest,
          `"${o}" is not one of question #${q.id}'s options (${known})`,
        );
      }
    }
    const twice = chosen.find((o, i) => chosen.indexOf(o) !== i);
    if (twice !== undefined) {
      throw new HiveError(ErrorCode.BadRequest, `option "${twice}" is chosen twice`);
    }
    if (chosen.length > 1 && !q.multi) {
      throw new HiveError(ErrorCode.BadRequest, `question #${q.id} takes one option, not several`);
    }
    // Both given: the choice, then the words (`eu, us — eu first`); the asker loses neither.
    const answer = [chosen.join(", "), req.text ?? ""].filter((p) => p !== "").join(" — ");
    return this.#close(q, { state: "answered", answer, by: OPERATOR });
  }

  /** The asker withdraws one of its own open questions (it is not told: it knows). */
  cancelByAsker(asker: AgentName, id: QuestionId): Question {
    const q = this.#o.store.get(id);
    if (!q || q.asker !== asker) {
      throw new HiveError(ErrorCode.NotFound, `no question #${id} of yours`);
    }
    return this.#close(this.#open(q), { state: "cancelled", by: asker, tellAsker: false });
  }

  /** The operator cancels any open question; the asker is told `[cancelled]`. */
  cancelByOperator(id: QuestionId): Question {
    const q = this.#o.store.get(id);
    if (!q) throw new HiveError(ErrorCode.NotFound, `no question #${id}`);
    return this.#close(this.#open(q), { state: "cancelled", by: OPERATOR });
  }

  /** `asker`'s questions, newest first; open ones only unless `all`. */
  mine(asker: AgentName, all: boolean): Question[] {
    return this.#o.store.byAsker(asker, all);
  }

  /** Open questions to the operator, newest first; every question (open first) with `all`. */
  forOperator(all: boolean): Question[] {
    return this.#o.store.forOperator(all);
  }

  /**
   * An agent was destroyed (a tombstone by now): what it asked or owes is cancelled (by
   * `system`), and the other party, if an agent, is told (the asker `[cancelled]`; the target
   * that it need not answer).
   */
  dropAgent(name: AgentName): void {
    for (const q of this.#o.store.openAbout(name)) {
      this.#close(q, { state: "cancelled", by: SYSTEM });
    }
  }

  /** An agent was purged: the questions it asked go with it (its name may be given again). */
  forgetAgent(name: AgentName): void {
    this.#o.store.forgetAsker(name);
  }

  /** `q` if it is still open; else a conflict naming how it ended. */
  #open(q: Question): Question {
    if (q.state !== "open") {
      throw new HiveError(ErrorCode.Conflict, `question #${q.id} was ${q.state} already`);
    }
    return q;
  }

  #close(
    q: Question,
    c: Pick<Closing, "state" | "by"> & Partial<Pick<Closing, "answer" | "tellAsker">>,
  ): Question {
    const closing: Closing = {
      state: c.state,
      answer: c.answer ?? `[${c.state}]`,
      at: this.#o.clock.now(),
      by: c.by,
      tellAsker: c.tellAsker ?? true,
      // Only an answer comes from the target itself; the operator reads the dashboard.
      tellTarget: q.target !== OPERATOR && c.state !== "answered",
    };
    const done = this.#o.store.close(q.id, closing);
    if (!done) throw new HiveError(ErrorCode.Conflict, `question #${q.id} was closed already`);
    this.#o.events.question(done);
    if (closing.tellAsker) this.#tell(done, "closed");
    if (closing.tellTarget) this.#tell(done, "withdrawn");
    if (q.expires_at !== null) this.#arm();
    return done;
  }

  /** Expires every open question whose deadline has come, then arms the timer for the next. */
  #expireDue(): void {
    const now = this.#o.clock.now();
    for (const q of this.#o.store.dueBy(now)) {
      // Closing re-arms on the way; the last #arm below is the one that counts.
      this.#close(q, { state: "expired", by: SYSTEM });
    }
    this.#arm();
  }

  /** One timer, for the earliest deadline of an open question. */
  #arm(): void {
    this.#timer?.();
    this.#timer = undefined;
    if (!this.#running) return;
    const at = this.#o.store.earliestExpiry();
    if (at === undefined) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#o.clock.now()));
    this.#timer = this.#o.clock.schedule(wait, () => {
      this.#timer = undefined;
      try {
        this.#expireDue();
      } catch (err) {
        this.#o.log.error({ err }, "expiring questions failed");
      }
    });
  }

  /**
   * Puts `notice` in its agent's inbox in the background (the question to its target, the
   * outcome to its asker, a withdrawal to its target), and records it once the broker took it.
   * Nobody is told who is no longer an active agent. A notice already on its way is not sent
   * twice (a question expired at start is both due and untold).
   */
  #tell(q: Question, notice: Notice): void {
    const { store, registry, greeter, log } = this.#o;
    const to = notice === "closed" ? q.asker : q.target;
    const row = to === OPERATOR ? undefined : registry.get(to);
    if (!row || row.tombstoned_at !== null) {
      store.markTold(q.id, notice);
      return;
    }
    const clientId = `c0re-question-${q.id}-${notice}`;
    if (this.#sending.has(clientId)) return;
    this.#sending.add(clientId);
    const body = { asked: askedMessage, closed: outcomeMessage, withdrawn: withdrawnMessage }[
      notice
    ](q);
    void greeter
      .tell(to, body, clientId)
      .then((took) => {
        if (took) store.markTold(q.id, notice);
      })
      .catch((err: unknown) => {
        log.warn({ err, question: q.id, notice }, "could not record a question's message as sent");
      })
      .finally(() => this.#sending.delete(clientId));
  }
}
