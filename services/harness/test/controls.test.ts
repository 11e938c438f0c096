import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CancelResponse,
  CompactResponse,
  createLogger,
  ErrorCode,
  HiveError,
  type LiveEvent,
  NewSessionResponse,
  parseReply,
  request,
  rpcs,
  SetModelResponse,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { StateFiles } from "../src/files.js";
import { MODEL_FILE } from "../src/model.js";
import { type RunClaude, runClaude } from "../src/run-claude.js";
import { Bench } from "./bench.js";

/** A case that runs several real claude turns in a row gets this long. */
const TURNS_TIMEOUT_MS = 120_000;

/** A summary for claude's compaction requests (what the model server's fallback also gives). */
const SUMMARY = "<analysis>a</analysis><summary>The operator asked for small jobs.</summary>";

/** The real claude, with every command line it ran and how many ran at once at most. */
function recordingClaude(): { runClaude: RunClaude; args: string[][]; maxActive: () => number } {
  const args: string[][] = [];
  let active = 0;
  let max = 0;
  return {
    args,
    maxActive: () => max,
    runClaude: (inv) => {
      args.push(inv.args);
      max = Math.max(max, ++active);
      const run = runClaude(inv);
      void run.done.then(() => {
        active--;
      });
      return run;
    },
  };
}

/**
 * The operator's controls (`hive.op.ctl.<agent>.*`) against harnesses in-process on a test clock
 * (the cancel retries' back-offs are moved, not waited), with the real claude, model server,
 * broker and NATS.
 */
describe("operator controls", () => {
  const bench = new Bench(["mona", "cora", "nesa", "cato", "bada"], { recv: true });
  beforeAll(() => bench.start());
  afterEach(() => bench.stopHarnesses());
  afterAll(() => bench.stop());

  const acked = (agent: string, id: number, what: string) =>
    waitUntil(() => bench.obs.ackedIds(agent).includes(id), { timeoutMs: 60_000, what });
  const eventsOf = (agent: string, turnId: string): LiveEvent[] =>
    bench.obs.liveOf(agent).filter((e) => e.turn_id === turnId);

  it(
    "/model: answered with the previous model, said at once in a state event, used by the next turn, persisted",
    async () => {
      const agent = "mona";
      await bench.ctl.setScript([{ match: "", reply: [{ text: "ok" }] }]);
      const h = await bench.harness(agent);
      const r = await request(bench.nc, subjects.op.ctl.model(agent), rpcs.ctlModel, {
        model: "claude-test-b",
      });
      assert.deepEqual(SetModelResponse.parse(r), { model: "claude-test-b", previous: "haiku" });
      const said = await waitUntil(
        () => bench.obs.states.find((s) => s.agent === agent && s.model === "claude-test-b"),
        { what: "a state event with the new model" },
      );
      assert.equal(said.state, "idle");
      assert.deepEqual(JSON.parse(readFileSync(join(h.cfg.stateDir, MODEL_FILE), "utf8")), {
        model: "claude-test-b",
        rev: null,
      });
      assert.equal(h.loop.whoami().model, "claude-test-b");

      const id = await bench.opSend(agent, "which model now?");
      await acked(agent, id, "the turn");
      assert.equal(bench.obs.turnsOn(agent, id)[0]?.model, "claude-test-b");
      assert.equal(bench.obs.stats.find((s) => s.message_id === id)?.model, "claude-test-b");
      const asked = (await bench.ctl.requests()).filter((x) => x.text.includes("which model now?"));
      assert.ok(asked.length > 0);
      assert.ok(
        asked.every((x) => x.model === "claude-test-b"),
        JSON.stringify(asked),
      );
      // Every state the harness published says the model; the later ones the new one.
      const states = bench.obs.states.filter((s) => s.agent === agent);
      assert.equal(states[0]?.model, "haiku");
      assert.ok(states.every((s) => s.model !== undefined));
      assert.equal(states.at(-1)?.model, "claude-test-b");
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "/compact: refused without a session or while a turn runs; on an idle agent a live turn of its own, compacting then idle",
    async () => {
      const agent = "cora";
      await bench.ctl.setScript([
        { match: "busy job", hold: true, times: 1, reply: [{ text: "finally" }] },
        { match: "", on: "compact", reply: [{ text: SUMMARY }] },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      const compact = () => request(bench.nc, subjects.op.ctl.compact(agent), rpcs.ctlCompact, {});
      await bench.harness(agent);
      await assert.rejects(
        compact(),
        (e) => HiveError.is(e, ErrorCode.Conflict) && /no session/.test(e.message),
      );

      // One exchange is too little to compact: claude says so, and so does the turn_end.
      const warm = await bench.opSend(agent, "warm up");
      await acked(agent, warm, "the warm-up turn");
      await waitUntil(() => bench.obs.statesOf(agent).at(-1) === "idle", { what: "idle" });
      const tooSoon = CompactResponse.parse(await compact()).turn_id;
      const failed = await waitUntil(
        () => eventsOf(agent, tooSoon).find((e) => e.kind === "turn_end"),
        { timeoutMs: 60_000, what: "the first compaction's turn_end" },
      );
      assert.deepEqual(failed.kind === "turn_end" && [failed.ok, failed.result, failed.note], [
        false,
        "error",
        "compaction failed: Not enough messages to compact.",
      ]);
      await waitUntil(() => bench.obs.statesOf(agent).at(-1) === "idle", { what: "idle" });

      const more = await bench.opSend(agent, "and a second job");
      await acked(agent, more, "the second turn");
      await waitUntil(() => bench.obs.statesOf(agent).at(-1) === "idle", { what: "idle" });
      const { turn_id } = CompactResponse.parse(await compact());
      const end = await waitUntil(
        () => eventsOf(agent, turn_id).find((e) => e.kind === "turn_end"),
        { timeoutMs: 60_000, what: "the compaction's turn_end" },
      );
      assert.deepEqual(end.kind === "turn_end" && { ok: end.ok, result: end.result }, {
        ok: true,
        result: "ok",
      });
      const events = eventsOf(agent, turn_id);
      assert.equal(events[0]?.kind, "note");
      assert.ok(
        events.some(
          (e) =>
            e.kind === "stream" &&
            e.event.type === "system" &&
            e.event.subtype === "compact_boundary",
        ),
        "claude compacted",
      );
      assert.ok(!events.some((e) => e.kind === "turn_start"), "no message drives it");
      await waitUntil(() => bench.obs.statesOf(agent).at(-1) === "idle", { what: "idle again" });
      assert.deepEqual(bench.obs.statesOf(agent).slice(-2), ["compacting", "idle"]);
      assert.ok(
        (await bench.ctl.requests()).some((x) => x.compact),
        "a compaction request",
      );

      // Busy: a held turn. Compacting now is refused, and nothing else happens.
      const busy = await bench.opSend(agent, "busy job");
      await waitUntil(
        async () => (await bench.ctl.requests()).some((x) => x.text.includes("busy job")),
        { timeoutMs: 30_000, what: "the held turn" },
      );
      await assert.rejects(compact(), (e) => HiveError.is(e, ErrorCode.Conflict));
      assert.equal(bench.obs.statesOf(agent).at(-1), "thinking");
      assert.equal(await bench.ctl.release(), 1);
      await acked(agent, busy, "the held turn");
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "one claude at a time: mail that comes during a compaction waits for it",
    async () => {
      const agent = "cora";
      await bench.ctl.setScript([
        { match: "", on: "compact", hold: true, times: 1, reply: [{ text: SUMMARY }] },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      const logFile = join(bench.root, "cora-log.jsonl");
      const fd = openSync(logFile, "w");
      const rec = recordingClaude();
      try {
        await bench.harness(agent, {
          runClaude: rec.runClaude,
          log: createLogger("cora", { level: "info", fd }),
        });
        const { turn_id } = CompactResponse.parse(
          await request(bench.nc, subjects.op.ctl.compact(agent), rpcs.ctlCompact, {}),
        );
        await waitUntil(async () => (await bench.ctl.requests()).some((x) => x.compact), {
          timeoutMs: 30_000,
          what: "the held compaction request",
        });
        const id = await bench.opSend(agent, "mail during the compaction");
        await waitUntil(
          () => readFileSync(logFile, "utf8").includes("a compaction holds the session"),
          { timeoutMs: 30_000, what: "the turn waiting for the session" },
        );
        assert.equal(bench.obs.turnsOn(agent, id).length, 0, "no turn yet");
        assert.equal(bench.obs.statesOf(agent).at(-1), "compacting");
        assert.equal(await bench.ctl.release(), 1);
        await acked(agent, id, "the turn after the compaction");
        const live = bench.obs.liveOf(agent);
        const compactionEnd = live.findIndex((e) => e.turn_id === turn_id && e.kind === "turn_end");
        const turnStart = live.findIndex((e) => e.kind === "turn_start" && e.message.id === id);
        assert.ok(compactionEnd >= 0 && compactionEnd < turnStart, "the turn started after");
        assert.equal(rec.maxActive(), 1, "never two claude runs at once");
        assert.equal(rec.args.length, 2);
      } finally {
        closeSync(fd);
      }
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "/new-session: the next claude run drops --continue, once",
    async () => {
      const agent = "nesa";
      await bench.ctl.setScript([{ match: "", reply: [{ text: "ok" }] }]);
      const rec = recordingClaude();
      const h = await bench.harness(agent, { runClaude: rec.runClaude });
      const turn = async (body: string) => acked(agent, await bench.opSend(agent, body), body);
      await turn("one");
      await turn("two");
      const r = await request(bench.nc, subjects.op.ctl.newSession(agent), rpcs.ctlNewSession, {});
      assert.deepEqual(NewSessionResponse.parse(r), { fresh_next_turn: true });
      assert.ok(existsSync(join(h.cfg.stateDir, StateFiles.newSession)));
      await turn("three");
      await turn("four");
      assert.deepEqual(
        rec.args.map((a) => a.includes("--continue")),
        [false, true, false, true],
      );
      // claude really started over: the third turn ran in a session of its own.
      const sessions = bench.obs.claudeInits(agent).map((e) => String(e.session_id));
      assert.equal(sessions.length, 4);
      assert.equal(sessions[1], sessions[0]);
      assert.notEqual(sessions[2], sessions[1]);
      assert.equal(sessions[3], sessions[2]);
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "/cancel: kills the running turn, which counts as failed: retried after 5 s, 10 s, then handed to the operator",
    async () => {
      const agent = "cato";
      const cancel = async () =>
        CancelResponse.parse(
          await request(bench.nc, subjects.op.ctl.cancel(agent), rpcs.ctlCancel, {}),
        );
      await bench.ctl.setScript([
        { match: "long job", hold: true, reply: [{ text: "never seen" }] },
        { match: "", reply: [{ text: "ok" }] },
      ]);
      await bench.ctl.clearRequests();
      const { clock } = await bench.harness(agent);
      assert.deepEqual(await cancel(), { cancelled: false, turn_id: null }, "nothing runs");

      const id = await bench.opSend(agent, "long job");
      const held = async () =>
        (await bench.ctl.requests()).filter((x) => x.kind === "reply" && /long job/.test(x.text));
      for (const attempt of [1, 2, 3]) {
        await waitUntil(async () => (await held()).length === attempt, {
          timeoutMs: 30_000,
          what: `held try ${attempt}`,
        });
        const start = bench.obs.turnsOn(agent, id)[attempt - 1];
        assert.ok(start);
        assert.deepEqual(await cancel(), { cancelled: true, turn_id: start.turn_id });
        const end = await waitUntil(
          () => eventsOf(agent, start.turn_id).find((e) => e.kind === "turn_end"),
          { timeoutMs: 30_000, what: `try ${attempt} ending` },
        );
        assert.deepEqual(end.kind === "turn_end" && [end.ok, end.result, end.note], [
          false,
          "cancelled",
          "cancelled by the operator",
        ]);
        assert.ok(
          eventsOf(agent, start.turn_id).some(
            (e) => e.kind === "note" && e.text === "turn cancelled by the operator",
          ),
          "a live note says so",
        );
        if (attempt < 3) {
          const pause = 5_000 * 2 ** (attempt - 1);
          await waitUntil(() => clock.nextIn === pause, { what: `the ${pause} ms back-off` });
          assert.equal(bench.obs.ackedIds(agent).includes(id), false, "not let go of");
          await clock.advance(pause);
        }
      }
      await acked(agent, id, "the ack after the last try");
      const texts = (await held()).map((x) => x.text);
      assert.match(texts[1] ?? "", /retry 2: the operator cancelled the previous turn/);
      assert.match(texts[2] ?? "", /retry 3: the operator cancelled the previous turn/);
      const stats = bench.obs.stats.filter((s) => s.agent === agent && s.message_id === id);
      assert.deepEqual(
        stats.map((s) => s.result),
        ["cancelled", "cancelled", "cancelled"],
      );
      const inbox = await request(bench.nc, subjects.op.inbox, rpcs.opInbox, {});
      const notice = inbox.messages.find((m) => m.from === agent);
      assert.match(
        notice?.body ?? "",
        new RegExp(
          `gave up on message #${id} from operator after 3 failed turns. Last error: cancelled by the operator`,
        ),
      );
    },
    TURNS_TIMEOUT_MS,
  );

  it("malformed payloads on every control subject: bad_request, and nothing changes", async () => {
    const agent = "bada";
    const h = await bench.harness(agent);
    const statesBefore = bench.obs.states.filter((s) => s.agent === agent).length;
    const ctl = subjects.op.ctl;
    const cases: [string, string, string][] = [
      [ctl.model(agent), "not json", "JSON"],
      [ctl.model(agent), JSON.stringify({ model: "sonnet", rev: "x" }), "rev"],
      [ctl.model(agent), JSON.stringify({ model: 5 }), "model"],
      [ctl.model(agent), JSON.stringify({ model: "no spaces allowed" }), "model"],
      [ctl.model(agent), JSON.stringify({}), "model"],
      [ctl.compact(agent), "{nope", "JSON"],
      [ctl.compact(agent), JSON.stringify({ now: true }), "now"],
      [ctl.compact(agent), JSON.stringify([]), ""],
      [ctl.newSession(agent), "", "JSON"],
      [ctl.newSession(agent), JSON.stringify({ fresh: true }), "fresh"],
      [ctl.newSession(agent), JSON.stringify("yes"), ""],
      [ctl.cancel(agent), "cancel!", "JSON"],
      [ctl.cancel(agent), JSON.stringify({ turn_id: "x" }), "turn_id"],
      [ctl.cancel(agent), JSON.stringify(null), ""],
    ];
    for (const [subject, payload, names] of cases) {
      const m = await bench.nc.request(subject, new TextEncoder().encode(payload), {
        timeout: 5000,
      });
      assert.throws(
        () => parseReply(rpcs.ctlCancel.response, m.data, subject),
        (e) => HiveError.is(e, ErrorCode.BadRequest) && e.message.includes(names),
        `${subject} ${payload}`,
      );
    }
    assert.equal(existsSync(join(h.cfg.stateDir, MODEL_FILE)), false, "no model set");
    assert.equal(existsSync(join(h.cfg.stateDir, StateFiles.newSession)), false, "no new session");
    assert.equal(bench.obs.liveOf(agent).length, 0, "no compaction, nothing cancelled");
    assert.equal(bench.obs.states.filter((s) => s.agent === agent).length, statesBefore);
    assert.equal(h.loop.whoami().model, "haiku");
  });
});
