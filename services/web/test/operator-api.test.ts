import assert from "node:assert/strict";
import { ErrorCode, HiveError, rpcs, type Service, subjects } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { ApiError, api } from "../src/wire.js";
import { agentInfo } from "./fixtures.js";
import {
  call,
  expectBadBodies,
  harnessScope,
  type Recorder,
  record,
  startHarness,
} from "./helpers.js";

/** The error of a reply, checked against the wire's schema. */
const apiError = (json: unknown) => ApiError.parse(json).error;

/** The wrong shapes every action body is tried with (not JSON is tried by expectBadBodies too). */
const EMPTY_BODY_CASES = [
  [{ force: true }, /force/],
  [["x"], /^body: /],
  ["x", /^body: /],
] as const;

describe("operator actions on agents (c0re and the agents' harnesses stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300, actionTimeoutMs: 300 });
  const start = <T extends { service: Service }>(r: T) => t.keep(r);

  it("GET /api/agents passes ?all to hive.op.agents (tombstones too) and refuses a bad one", async () => {
    const agents = await start(
      record(t.h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: [agentInfo("manager"), agentInfo("zed", { tombstoned_at: 5, running: false })],
      })),
    );
    const all = await call(t.h.app, "GET", "/api/agents?all=true");
    assert.equal(all.status, 200);
    assert.deepEqual(
      api.agents.reply.parse(all.json()).agents.map((a) => [a.name, a.tombstoned_at]),
      [
        ["manager", null],
        ["zed", 5],
      ],
    );
    assert.equal((await call(t.h.app, "GET", "/api/agents")).status, 200);
    const bad = await call(t.h.app, "GET", "/api/agents?all=maybe");
    assert.equal(bad.status, 400);
    assert.match(apiError(bad.json()).message, /^querystring\.all: /);
    assert.deepEqual(
      agents.seen.map((s) => s.req),
      [{ all: true }, {}],
    );
  });

  it("POST /api/agents/<name>/<action> asks c0re's hive.op.agent.<action> for that agent", async () => {
    const lifecycle = await start(
      record(t.h.nc, "hive.op.agent.*", rpcs.opAgentLifecycle, (req, subject) => ({
        agent: agentInfo(req.name, {
          running: !subject.endsWith(".stop") && !subject.endsWith(".destroy"),
          tombstoned_at: subject.endsWith(".destroy") ? 1 : null,
        }),
      })),
    );
    for (const action of ["stop", "start", "restart", "destroy"] as const) {
      const r = await call(t.h.app, "POST", api.agentAction.url("alice", action), { body: {} });
      assert.equal(r.status, 200, action);
      assert.equal(api.agentAction.reply.parse(r.json()).agent.name, "alice");
    }
    assert.deepEqual(lifecycle.seen, [
      { subject: subjects.op.agentStop, req: { name: "alice" } },
      { subject: subjects.op.agentStart, req: { name: "alice" } },
      { subject: subjects.op.agentRestart, req: { name: "alice" } },
      { subject: subjects.op.agentDestroy, req: { name: "alice" } },
    ]);

    await expectBadBodies(t.h.app, api.agentAction.url("alice", "stop"), EMPTY_BODY_CASES);
    const noBody = await call(t.h.app, "POST", api.agentAction.url("alice", "stop"));
    assert.equal(noBody.status, 400, "no body at all");
    const verb = await call(t.h.app, "POST", "/api/agents/alice/explode", { body: {} });
    assert.equal(verb.status, 400);
    assert.match(apiError(verb.json()).message, /^params\.action: /);
    const name = await call(t.h.app, "POST", "/api/agents/NOT_OK/stop", { body: {} });
    assert.equal(name.status, 400);
    assert.match(apiError(name.json()).message, /^params\.name: /);
    assert.equal(lifecycle.seen.length, 4, "no malformed request reached NATS");
  });

  it("maps c0re's typed refusals to statuses, message kept", async () => {
    await start(
      record(t.h.nc, "hive.op.agent.*", rpcs.opAgentLifecycle, (req) => {
        if (req.name === "manager") {
          throw new HiveError(ErrorCode.Forbidden, "the manager cannot be destroyed");
        }
        if (req.name === "ghost") throw new HiveError(ErrorCode.NotFound, "no agent named ghost");
        throw new HiveError(ErrorCode.Conflict, `${req.name} is already running`);
      }),
    );
    const cases = [
      ["manager", "destroy", 403, "forbidden", "the manager cannot be destroyed"],
      ["ghost", "stop", 404, "not_found", "no agent named ghost"],
      ["alice", "start", 409, "conflict", "alice is already running"],
    ] as const;
    for (const [name, action, status, code, message] of cases) {
      const r = await call(t.h.app, "POST", api.agentAction.url(name, action), { body: {} });
      assert.equal(r.status, status, `${action} ${name}`);
      assert.deepEqual(apiError(r.json()), { code, message, retryable: false });
    }
  });

  it("POST /api/agents/<name>/purge sends the typed confirmation to hive.op.agent.purge", async () => {
    const purge = await start(
      record(t.h.nc, subjects.op.agentPurge, rpcs.opPurge, (req) => {
        if (req.confirm !== req.name) {
          throw new HiveError(ErrorCode.BadRequest, "confirm must be the agent's name");
        }
        if (req.name === "alice") throw new HiveError(ErrorCode.Conflict, "destroy it first");
        return { name: req.name, state_dir: `/hive/agents/${req.name}/state` };
      }),
    );
    const ok = await call(t.h.app, "POST", api.purge.url("zed"), { body: { confirm: "zed" } });
    assert.equal(ok.status, 200);
    assert.deepEqual(api.purge.reply.parse(ok.json()), {
      name: "zed",
      state_dir: "/hive/agents/zed/state",
    });
    const typo = await call(t.h.app, "POST", api.purge.url("zed"), { body: { confirm: "zde" } });
    assert.equal(typo.status, 400);
    assert.equal(apiError(typo.json()).message, "confirm must be the agent's name");
    const active = await call(t.h.app, "POST", api.purge.url("alice"), {
      body: { confirm: "alice" },
    });
    assert.equal(active.status, 409);
    assert.equal(apiError(active.json()).message, "destroy it first");
    assert.deepEqual(
      purge.seen.map((s) => s.req),
      [
        { name: "zed", confirm: "zed" },
        { name: "zed", confirm: "zde" },
        { name: "alice", confirm: "alice" },
      ],
    );

    await expectBadBodies(t.h.app, api.purge.url("zed"), [
      [{}, /^body\.confirm: /],
      [{ confirm: 7 }, /^body\.confirm: /],
      [{ confirm: "zed", name: "alice" }, /name/],
      [[], /^body: /],
    ]);
    assert.equal(purge.seen.length, 3, "no malformed request reached NATS");
  });

  it("POST /api/agents/<name>/{model,compact,new-session,cancel} go to the agent's harness", async () => {
    const model = await start(
      record(t.h.nc, subjects.op.ctl.model("alice"), rpcs.ctlModel, (req) => ({
        model: req.model,
        previous: "haiku",
      })),
    );
    const compact = await start(
      record(t.h.nc, subjects.op.ctl.compact("alice"), rpcs.ctlCompact, () => ({
        turn_id: "alice-1-7",
      })),
    );
    const fresh = await start(
      record(t.h.nc, subjects.op.ctl.newSession("alice"), rpcs.ctlNewSession, () => ({
        fresh_next_turn: true as const,
      })),
    );
    const cancel = await start(
      record(t.h.nc, subjects.op.ctl.cancel("alice"), rpcs.ctlCancel, () => ({
        cancelled: true,
        turn_id: "alice-1-8",
      })),
    );
    const m = await call(t.h.app, "POST", api.model.url("alice"), { body: { model: "sonnet" } });
    assert.equal(m.status, 200);
    assert.deepEqual(api.model.reply.parse(m.json()), { model: "sonnet", previous: "haiku" });
    const c = await call(t.h.app, "POST", api.compact.url("alice"), { body: {} });
    assert.deepEqual(api.compact.reply.parse(c.json()), { turn_id: "alice-1-7" });
    const n = await call(t.h.app, "POST", api.newSession.url("alice"), { body: {} });
    assert.deepEqual(api.newSession.reply.parse(n.json()), { fresh_next_turn: true });
    const x = await call(t.h.app, "POST", api.cancel.url("alice"), { body: {} });
    assert.deepEqual(api.cancel.reply.parse(x.json()), { cancelled: true, turn_id: "alice-1-8" });
    assert.deepEqual(model.seen, [
      { subject: "hive.op.ctl.alice.model", req: { model: "sonnet" } },
    ]);
    assert.deepEqual(compact.seen, [{ subject: "hive.op.ctl.alice.compact", req: {} }]);
    assert.deepEqual(fresh.seen, [{ subject: "hive.op.ctl.alice.new_session", req: {} }]);
    assert.deepEqual(cancel.seen, [{ subject: "hive.op.ctl.alice.cancel", req: {} }]);

    await expectBadBodies(t.h.app, api.model.url("alice"), [
      [{}, /^body\.model: /],
      [{ model: 5 }, /^body\.model: /],
      [{ model: "-rf /" }, /^body\.model: /],
      [{ model: "sonnet", agent: "bob" }, /agent/],
    ]);
    for (const url of [api.compact.url("alice"), api.newSession.url("alice")]) {
      await expectBadBodies(t.h.app, url, EMPTY_BODY_CASES);
    }
    await expectBadBodies(t.h.app, api.cancel.url("alice"), EMPTY_BODY_CASES);
    for (const r of [model, compact, fresh, cancel]) {
      assert.equal(r.seen.length, 1, "no malformed request reached NATS");
    }
  });

  it("maps the harness's refusals and its absence: conflict 409, nobody there 503", async () => {
    await start(
      record(t.h.nc, subjects.op.ctl.compact("alice"), rpcs.ctlCompact, () => {
        throw new HiveError(ErrorCode.Conflict, "alice is thinking: compact when it is idle");
      }),
    );
    const busy = await call(t.h.app, "POST", api.compact.url("alice"), { body: {} });
    assert.equal(busy.status, 409);
    assert.equal(apiError(busy.json()).message, "alice is thinking: compact when it is idle");
    const gone = await call(t.h.app, "POST", api.cancel.url("bob"), { body: {} });
    assert.equal(gone.status, 503);
    assert.deepEqual(apiError(gone.json()), {
      code: "unavailable",
      message: "no service answers hive.op.ctl.bob.cancel",
      retryable: true,
    });
  });

  it("POST /api/restart-all waits past the action timeout, as long as restart-all takes", async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    const restart = await start(
      record(t.h.nc, subjects.op.restartAll, rpcs.opRestartAll, async () => {
        await released;
        return { restarted: ["manager", "alice"], manager_idle: true };
      }),
    );
    const pending = call(t.h.app, "POST", api.restartAll.path, { body: {} });
    await waitUntil(() => restart.seen.length === 1, { what: "c0re to be asked" });
    // An action left unanswered times out (300 ms here): restart-all must outlive that.
    t.h.nc.subscribe(subjects.op.agentStop, { max: 1 });
    await t.h.nc.flush();
    const stuck = await call(t.h.app, "POST", api.agentAction.url("alice", "stop"), { body: {} });
    assert.equal(stuck.status, 504);
    release();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.deepEqual(api.restartAll.reply.parse(r.json()), {
      restarted: ["manager", "alice"],
      manager_idle: true,
    });
    await expectBadBodies(t.h.app, api.restartAll.path, EMPTY_BODY_CASES);
    assert.equal(restart.seen.length, 1, "no malformed request reached NATS");
  });
});

describe("closing the app during a restart-all", () => {
  it("gives up the wait (503) instead of holding the close for minutes", async () => {
    const h = await startHarness();
    let asked: Recorder<unknown> | undefined;
    let release: () => void = () => {};
    const never = new Promise<never>((_, reject) => {
      release = () => reject(new HiveError(ErrorCode.Unavailable, "test over"));
    });
    try {
      asked = record(h.nc, subjects.op.restartAll, rpcs.opRestartAll, () => never);
      await h.nc.flush();
      const pending = call(h.app, "POST", api.restartAll.path, { body: {} });
      await waitUntil(() => asked?.seen.length === 1, { what: "c0re to be asked" });
      await h.app.close();
      const r = await pending;
      assert.equal(r.status, 503);
      assert.match(apiError(r.json()).message, /request abandoned/);
    } finally {
      release();
      await asked?.service.stop();
      await h.stop();
    }
  });
});
