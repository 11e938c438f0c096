import assert from "node:assert/strict";
import { type Db, migrate, openDatabase } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { type Closing, type NewQuestion, QuestionsStore } from "../src/questions-store.js";
import { migrations } from "../src/schema.js";

const T0 = 1_700_000_000_000;

function fresh(): { db: Db; store: QuestionsStore } {
  const db = openDatabase(":memory:", migrations);
  return { db, store: new QuestionsStore(db) };
}

/** A question alice asks `target`, at T0 + `at` seconds. */
function q(target: string, at: number, more: Partial<NewQuestion> = {}): NewQuestion {
  return {
    asker: "alice",
    target,
    question: `question at ${at}`,
    options: [],
    multi: false,
    created_at: T0 + at * 1000,
    expires_at: null,
    ...more,
  };
}

const closing = (more: Partial<Closing> = {}): Closing => ({
  state: "answered",
  answer: "yes",
  at: T0 + 99_000,
  by: "bob",
  tellAsker: true,
  tellTarget: false,
  ...more,
});

describe("the questions table", () => {
  it("stores a question as asked, with an id never given twice", () => {
    const { db, store } = fresh();
    const a = store.add(q("operator", 0, { options: ["yes", "no, not 🐝"], multi: true }));
    assert.deepEqual(a, {
      id: 1,
      asker: "alice",
      target: "operator",
      question: "question at 0",
      options: ["yes", "no, not 🐝"],
      multi: true,
      created_at: T0,
      expires_at: null,
      state: "open",
      answer: null,
      answered_at: null,
      answered_by: null,
    });
    const b = store.add(q("bob", 1, { expires_at: T0 + 60_000 }));
    assert.equal(b.id, 2);
    assert.deepEqual(store.get(2), b);
    assert.equal(store.get(3), undefined);
    db.prepare("DELETE FROM questions WHERE id = 2").run();
    assert.equal(store.add(q("bob", 2)).id, 3, "the newest id is not given again");
    assert.equal(store.forgetAsker("alice"), 2);
    assert.equal(store.add(q("bob", 3)).id, 4);
  });

  it("lists in order: an asker's newest first, the operator's open first, open ones and deadlines oldest first", () => {
    const { store } = fresh();
    const one = store.add(q("operator", 0));
    const two = store.add(q("bob", 1, { expires_at: T0 + 50_000 }));
    const three = store.add(q("operator", 2, { expires_at: T0 + 40_000 }));
    const four = store.add({ ...q("alice", 3), asker: "bob" });
    store.close(one.id, closing({ by: "operator" }));
    const ids = (qs: { id: number }[]) => qs.map((x) => x.id);
    assert.deepEqual(ids(store.byAsker("alice", false)), [three.id, two.id]);
    assert.deepEqual(ids(store.byAsker("alice", true)), [three.id, two.id, one.id]);
    assert.deepEqual(ids(store.forOperator(false)), [three.id]);
    assert.deepEqual(ids(store.forOperator(true)), [four.id, three.id, two.id, one.id]);
    assert.deepEqual(ids(store.open()), [two.id, three.id, four.id]);
    assert.deepEqual(ids(store.openAbout("bob")), [two.id, four.id]);
    assert.equal(store.earliestExpiry(), T0 + 40_000);
    assert.deepEqual(ids(store.dueBy(T0 + 39_999)), []);
    assert.deepEqual(ids(store.dueBy(T0 + 50_000)), [three.id, two.id], "earliest deadline first");
    store.close(three.id, closing({ state: "expired", answer: "[expired]", by: "system" }));
    assert.equal(store.earliestExpiry(), T0 + 50_000);
    store.close(two.id, closing());
    assert.equal(store.earliestExpiry(), undefined, "no open question has a deadline");
  });

  it("closes a question once: a second close changes nothing", () => {
    const { store } = fresh();
    const { id } = store.add(q("bob", 0));
    const done = store.close(id, closing());
    assert.deepEqual(done && [done.state, done.answer, done.answered_at, done.answered_by], [
      "answered",
      "yes",
      T0 + 99_000,
      "bob",
    ]);
    assert.equal(
      store.close(id, closing({ state: "cancelled", answer: "[cancelled]", by: "operator" })),
      undefined,
    );
    assert.deepEqual(store.get(id), done);
  });

  it("knows which messages the broker has not taken yet, and records them taken", () => {
    const { store } = fresh();
    const toOp = store.add(q("operator", 0));
    const toBob = store.add(q("bob", 1));
    const toCarol = store.add(q("carol", 2));
    const seen = () => store.untold().map((u) => `${u.question.id} ${u.notice}`);
    // The operator is never mailed a question: only bob and carol are to be asked.
    assert.deepEqual(seen(), [`${toBob.id} asked`, `${toCarol.id} asked`]);
    store.markTold(toBob.id, "asked");
    assert.deepEqual(seen(), [`${toCarol.id} asked`]);
    // Carol's closes before she was asked: she is not asked any more, both sides are told.
    store.close(
      toCarol.id,
      closing({ state: "cancelled", answer: "[cancelled]", tellTarget: true }),
    );
    store.close(toOp.id, closing({ by: "operator" }));
    assert.deepEqual(seen(), [
      `${toOp.id} closed`,
      `${toCarol.id} closed`,
      `${toCarol.id} withdrawn`,
    ]);
    store.markTold(toCarol.id, "withdrawn");
    store.markTold(toOp.id, "closed");
    // An asker that cancelled needs no telling.
    store.close(toBob.id, closing({ state: "cancelled", by: "alice", tellAsker: false }));
    assert.deepEqual(seen(), [`${toCarol.id} closed`]);
    store.markTold(toCarol.id, "closed");
    assert.deepEqual(seen(), []);
  });

  it("refuses rows that fail their schema (a hand-edited file cannot lie)", () => {
    const { db, store } = fresh();
    const { id } = store.add(q("bob", 0, { options: ["a"] }));
    db.prepare("UPDATE questions SET options = ? WHERE id = ?").run('{"a":1}', id);
    assert.throws(() => store.get(id));
    db.prepare("UPDATE questions SET options = '[]', asker = 'Not A Name' WHERE id = ?").run(id);
    assert.throws(() => store.open());
    db.prepare("UPDATE questions SET asker = 'alice', options = 'not json' WHERE id = ?").run(id);
    assert.throws(() => store.byAsker("alice", false));
  });

  it("a file of schema 3 gains the withdrawal column with nothing owed for its closed questions", () => {
    const db = openDatabase(":memory:", migrations.slice(0, 3));
    db.prepare(
      `INSERT INTO questions (asker, target, question, options, multi, created_at, state, answer,
                              answered_at, answered_by, target_told, asker_told)
       VALUES ('alice', 'bob', 'old?', '[]', 0, 1, 'cancelled', '[cancelled]', 2, 'operator', 1, 1)`,
    ).run();
    migrate(db, migrations);
    const store = new QuestionsStore(db);
    assert.equal(store.get(1)?.state, "cancelled");
    assert.deepEqual(store.untold(), []);
  });
});
