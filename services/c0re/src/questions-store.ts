import {
  type AgentName,
  type Db,
  OPERATOR,
  Question,
  type QuestionId,
  type Recipient,
  type Sender,
} from "@hyperhive/shared";
import { z } from "zod";

/** A question as asked, before it has an id. */
export interface NewQuestion {
  asker: AgentName;
  target: Recipient;
  question: string;
  options: string[];
  multi: boolean;
  created_at: number;
  expires_at: number | null;
}

/** How an open question ends. */
export interface Closing {
  state: "answered" | "expired" | "cancelled";
  /** The answer's text, or `[expired]`, `[cancelled]`. */
  answer: string;
  at: number;
  by: Sender;
  /** Whether the asker needs telling (not when it cancelled the question itself). */
  tellAsker: boolean;
  /** Whether the target agent needs telling that it need not answer (not when it answered). */
  tellTarget: boolean;
}

/**
 * The system messages a question makes: `asked` (the target agent is asked), `closed` (the asker
 * is told the outcome), `withdrawn` (the target agent is told a question it owed closed without
 * its answer: expired or cancelled).
 */
export type Notice = "asked" | "closed" | "withdrawn";

/** The column recording that a notice was taken by the broker. */
const TOLD_COLUMN = {
  asked: "target_told",
  closed: "asker_told",
  withdrawn: "withdrawn_told",
} as const satisfies Record<Notice, string>;

/** One row as stored: options still JSON text, flags as 0/1. Parsed: a hand-edited file cannot lie. */
const QuestionRow = z.object({
  id: z.number().int(),
  asker: z.string(),
  target: z.string(),
  question: z.string(),
  options: z.string(),
  multi: z.union([z.literal(0), z.literal(1)]),
  created_at: z.number().int(),
  expires_at: z.number().int().nullable(),
  state: z.string(),
  answer: z.string().nullable(),
  answered_at: z.number().int().nullable(),
  answered_by: z.string().nullable(),
  target_told: z.union([z.literal(0), z.literal(1)]),
  asker_told: z.union([z.literal(0), z.literal(1)]),
  withdrawn_told: z.union([z.literal(0), z.literal(1)]),
});

function toQuestion(row: unknown): Question {
  const { target_told: _t, asker_told: _a, withdrawn_told: _w, ...r } = QuestionRow.parse(row);
  const options: unknown = JSON.parse(r.options);
  return Question.parse({ ...r, options, multi: r.multi === 1 });
}

/**
 * The `questions` table in c0re's sqlite file: plain reads and writes, rows checked on the way
 * out. Text, options and answers are stored exactly as given; ids come from AUTOINCREMENT.
 */
export class QuestionsStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(id: QuestionId): Question | undefined {
    const row: unknown = this.#db.prepare("SELECT * FROM questions WHERE id = ?").get(id);
    return row === undefined ? undefined : toQuestion(row);
  }

  /** Stores a new open question; the operator is never told by mail (the dashboard shows it). */
  add(q: NewQuestion): Question {
    const r = this.#db
      .prepare(
        `INSERT INTO questions (asker, target, question, options, multi, created_at, expires_at,
                                state, target_told)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
      )
      .run(
        q.asker,
        q.target,
        q.question,
        JSON.stringify(q.options),
        q.multi ? 1 : 0,
        q.created_at,
        q.expires_at,
        q.target === OPERATOR ? 1 : 0,
      );
    const stored = this.get(Number(r.lastInsertRowid));
    if (!stored) throw new Error("question vanished after insert");
    return stored;
  }

  /** `asker`'s questions, newest first; open ones only unless `all`. */
  byAsker(asker: AgentName, all: boolean): Question[] {
    const sql = all
      ? "SELECT * FROM questions WHERE asker = ? ORDER BY id DESC"
      : "SELECT * FROM questions WHERE asker = ? AND state = 'open' ORDER BY id DESC";
    return this.#db.prepare(sql).all(asker).map(toQuestion);
  }

  /**
   * The operator's list: open questions put to the operator, newest first; with `all`, every
   * question (agents' to each other too), the open ones first.
   */
  forOperator(all: boolean): Question[] {
    const sql = all
      ? "SELECT * FROM questions ORDER BY state = 'open' DESC, id DESC"
      : "SELECT * FROM questions WHERE target = ? AND state = 'open' ORDER BY id DESC";
    const stmt = this.#db.prepare(sql);
    return (all ? stmt.all() : stmt.all(OPERATOR)).map(toQuestion);
  }

  /** Every open question, oldest first. */
  open(): Question[] {
    return this.#db
      .prepare("SELECT * FROM questions WHERE state = 'open' ORDER BY id")
      .all()
      .map(toQuestion);
  }

  /** Open questions `agent` asked or owes, oldest first. */
  openAbout(agent: AgentName): Question[] {
    return this.#db
      .prepare(
        "SELECT * FROM questions WHERE state = 'open' AND (asker = ? OR target = ?) ORDER BY id",
      )
      .all(agent, agent)
      .map(toQuestion);
  }

  /**
   * Closes an open question; returns it as it is now, or undefined (nothing changed) when it
   * is not open.
   */
  close(id: QuestionId, c: Closing): Question | undefined {
    const r = this.#db
      .prepare(
        `UPDATE questions SET state = ?, answer = ?, answered_at = ?, answered_by = ?,
                              asker_told = ?, withdrawn_told = ?
         WHERE id = ? AND state = 'open'`,
      )
      .run(c.state, c.answer, c.at, c.by, c.tellAsker ? 0 : 1, c.tellTarget ? 0 : 1, id);
    return r.changes === 1 ? this.get(id) : undefined;
  }

  /** The earliest deadline of an open question (unix ms), if any has one. */
  earliestExpiry(): number | undefined {
    const row: unknown = this.#db
      .prepare("SELECT MIN(expires_at) AS at FROM questions WHERE state = 'open'")
      .get();
    return z.object({ at: z.number().int().nullable() }).parse(row).at ?? undefined;
  }

  /** Open questions whose deadline is at or before `now`, oldest deadline first. */
  dueBy(now: number): Question[] {
    return this.#db
      .prepare(
        `SELECT * FROM questions WHERE state = 'open' AND expires_at <= ?
         ORDER BY expires_at, id`,
      )
      .all(now)
      .map(toQuestion);
  }

  /**
   * Messages the broker has not taken yet, oldest question first: open questions their target
   * agent has not been asked, closed ones whose asker has not been told the outcome, or whose
   * target has not been told it need not answer.
   */
  untold(): { question: Question; notice: Notice }[] {
    const rows = z.array(QuestionRow).parse(
      this.#db
        .prepare(
          `SELECT * FROM questions
           WHERE (state = 'open' AND target_told = 0)
              OR (state != 'open' AND (asker_told = 0 OR withdrawn_told = 0))
           ORDER BY id`,
        )
        .all(),
    );
    return rows.flatMap((r): { question: Question; notice: Notice }[] => {
      const question = toQuestion(r);
      if (r.state === "open") return [{ question, notice: "asked" }];
      const notices: Notice[] = [];
      if (r.asker_told === 0) notices.push("closed");
      if (r.withdrawn_told === 0) notices.push("withdrawn");
      return notices.map((notice) => ({ question, notice }));
    });
  }

  /** Records that the broker took `notice`. */
  markTold(id: QuestionId, notice: Notice): void {
    this.#db.prepare(`UPDATE questions SET ${TOLD_COLUMN[notice]} = 1 WHERE id = ?`).run(id);
  }

  /**
   * Deletes the questions `asker` asked (a purge: the name may be given to a new agent, which
   * must not find its predecessor's questions among its own). Returns how many.
   */
  forgetAsker(asker: AgentName): number {
    return this.#db.prepare("DELETE FROM questions WHERE asker = ?").run(asker).changes;
  }
}
