import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type PreviousAction } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";
import { z } from "zod";
import {
  ACTIONS_FILE,
  ActionLog,
  MAX_ACTIONS,
  MAX_REMEMBERED,
  TurnMemory,
} from "../src/turn-memory.js";

const log = createLogger("turn-memory-test", { level: "silent" });

const sent = (id: number, quote = `reply ${id}`): PreviousAction => ({
  kind: "sent",
  id,
  to: "operator",
  quote,
});

describe("turn memory", () => {
  const t = tempDir("hive-turn-memory-");
  /** A fresh state dir (the harness's exists before the log is made). */
  const stateDir = (name: string): string => {
    const dir = join(t.path, name);
    mkdirSync(dir);
    return dir;
  };
  afterAll(() => t.remove());

  it("what a turn did is in an owner-only file, and a new harness on the state dir reads it back", () => {
    const dir = stateDir("restart");
    const first = new ActionLog({ stateDir: dir, log });
    const memory = new TurnMemory(first, { id: 5, sent_at: 1000 });
    assert.deepEqual(first.previous({ id: 5, sent_at: 1000 }), [], "nothing yet");
    memory.record(sent(11878, "pong…"));
    memory.record({ kind: "asked", id: 3, to: "operator", quote: "deploy now?" });

    const path = join(dir, ACTIONS_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes(".tmp")),
      [],
      "no temp file left behind",
    );

    // The harness dies; the next one on this state dir remembers.
    const again = new ActionLog({ stateDir: dir, log });
    assert.deepEqual(again.previous({ id: 5, sent_at: 1000 }), [
      { kind: "sent", id: 11878, to: "operator", quote: "pong…" },
      { kind: "asked", id: 3, to: "operator", quote: "deploy now?" },
    ]);
    // Same id, another message (a broker reset reuses ids): not mistaken for it.
    assert.deepEqual(again.previous({ id: 5, sent_at: 2000 }), []);
    assert.deepEqual(again.previous({ id: 6, sent_at: 1000 }), []);
  });

  it("a turn's action is remembered against every message it holds, each once", () => {
    const actions = new ActionLog({ stateDir: stateDir("cover"), log });
    const memory = new TurnMemory(actions, { id: 40, sent_at: 1 });
    memory.cover({ id: 41, sent_at: 2 }); // a mid-turn recv
    memory.cover({ id: 41, sent_at: 2 });
    memory.record(sent(50));
    assert.deepEqual(actions.previous({ id: 40, sent_at: 1 }), [sent(50)]);
    assert.deepEqual(actions.previous({ id: 41, sent_at: 2 }), [sent(50)]);
  });

  it("is bounded: the newest messages, and a capped number of actions for each", () => {
    const dir = stateDir("bounded");
    const actions = new ActionLog({ stateDir: dir, log });
    for (let id = 1; id <= MAX_REMEMBERED + 5; id++) {
      actions.record([{ id, sent_at: id }], sent(1000 + id));
    }
    const one = new TurnMemory(actions, { id: 9999, sent_at: 9 });
    for (let i = 0; i < MAX_ACTIONS + 3; i++) one.record(sent(5000 + i));

    const reread = new ActionLog({ stateDir: dir, log });
    // The oldest six were dropped (205 + 1 messages, 200 kept); the newest are there.
    for (let id = 1; id <= 6; id++) assert.deepEqual(reread.previous({ id, sent_at: id }), []);
    assert.deepEqual(reread.previous({ id: 7, sent_at: 7 }), [sent(1007)]);
    assert.deepEqual(reread.previous({ id: MAX_REMEMBERED + 5, sent_at: MAX_REMEMBERED + 5 }), [
      sent(1000 + MAX_REMEMBERED + 5),
    ]);
    const capped = reread.previous({ id: 9999, sent_at: 9 });
    assert.equal(capped.length, MAX_ACTIONS);
    assert.deepEqual(capped[0], sent(5000));
    const file = z
      .looseObject({ messages: z.array(z.unknown()) })
      .parse(JSON.parse(readFileSync(join(dir, ACTIONS_FILE), "utf8")));
    assert.equal(file.messages.length, MAX_REMEMBERED);
  });

  it("a file that does not parse is started afresh, then overwritten", () => {
    const dir = stateDir("broken");
    const path = join(dir, ACTIONS_FILE);
    writeFileSync(path, "{not json");
    const a = new ActionLog({ stateDir: dir, log });
    assert.deepEqual(a.previous({ id: 1, sent_at: 1 }), []);
    writeFileSync(path, JSON.stringify({ messages: [{ id: 1, sent_at: 1, actions: [{}] }] }));
    const b = new ActionLog({ stateDir: dir, log });
    assert.deepEqual(b.previous({ id: 1, sent_at: 1 }), [], "a wrong shape is not trusted");
    b.record([{ id: 2, sent_at: 2 }], sent(3));
    assert.deepEqual(new ActionLog({ stateDir: dir, log }).previous({ id: 2, sent_at: 2 }), [
      sent(3),
    ]);
  });
});
