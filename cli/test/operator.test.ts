import assert from "node:assert/strict";
import { AgentsListResponse, RestartAllResponse } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { z } from "zod";
import { useFakeHive } from "./fake-hive.js";

const WireErrorJson = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

/**
 * The operator's agent commands (agents, kill, start, restart, restart --all, destroy, purge) and
 * controls (model, compact, new-session, cancel) as real `hive` processes against stand-ins for
 * c0re and alice's harness on a real nats-server: what each sends (subject and exact payload),
 * what it prints, its errors.
 */
describe("agent commands and controls (c0re and a harness stood in for)", () => {
  const hive = useFakeHive();

  it("agents: a MODEL column; --all adds tombstones, marked, and asks for them", async () => {
    const plain = await hive.asked("agents");
    assert.equal(plain.code, 0, plain.stderr);
    // Asked together: c0re for the agents, the scheduler for the REMINDERS column.
    const bySubject = (calls: typeof plain.calls) =>
      [...calls].sort((a, b) => a.subject.localeCompare(b.subject));
    assert.deepEqual(bySubject(plain.calls), [
      { subject: "hive.op.agents", payload: {} },
      { subject: "hive.op.reminder_counts", payload: {} },
    ]);
    const lines = plain.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /^NAME\s+ROLE\s+MODEL\s+STATE\s+SINCE\s+RUNNING\s+STARTS\s+REMINDERS$/,
    );
    assert.match(plain.stdout, /^alice\s+agent\s+haiku\s+idle\s+2m ago\s+yes\s+1\s+2 pending, /m);
    assert.match(plain.stdout, /^carol\s+agent\s+-\s+offline\s+2m ago\s+no\s+1\s+-$/m);
    assert.doesNotMatch(plain.stdout, /^bob/m);
    const all = await hive.asked("agents", "--all");
    assert.deepEqual(bySubject(all.calls), [
      { subject: "hive.op.agents", payload: { all: true } },
      { subject: "hive.op.reminder_counts", payload: {} },
    ]);
    assert.match(all.stdout, /^bob\s+agent\s+haiku\s+tombstone\s+10m ago\s+no\s+1\s+-$/m);
    const json = await hive.cli("agents", "--all", "--json");
    const list = AgentsListResponse.parse(JSON.parse(json.stdout)).agents;
    assert.deepEqual(
      list.map((a) => [a.name, a.tombstoned_at !== null]),
      [
        ["manager", false],
        ["alice", false],
        ["carol", false],
        ["bob", true],
      ],
    );
  });

  it("kill, start, restart and destroy ask c0re on the operator's subjects", async () => {
    const cases = [
      ["kill", "hive.op.agent.stop", "stopped alice; it stays stopped until: hive start alice"],
      ["start", "hive.op.agent.start", "started alice (start #2)"],
      ["restart", "hive.op.agent.restart", "restarted alice (start #2)"],
      [
        "destroy",
        "hive.op.agent.destroy",
        "destroyed alice: a tombstone now, its state dir kept (/hive/agents/alice/state); hive purge alice deletes it",
      ],
    ] as const;
    for (const [verb, subject, line] of cases) {
      const r = await hive.asked(verb, "alice");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.calls, [{ subject, payload: { name: "alice" } }]);
      assert.equal(r.stdout, `${line}\n`);
    }
    const nobody = await hive.asked("kill", "nobody");
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, "hive: no agent named nobody\n");
    assert.equal(nobody.calls.length, 1);
  });

  it("restart --all asks once, with a long wait, and prints the order", async () => {
    const r = await hive.asked("restart", "--all");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [{ subject: "hive.op.restart_all", payload: {} }]);
    assert.equal(r.stdout, "restarted manager, alice\n");
    hive.state.managerIdle = false;
    const late = await hive.cli("restart", "--all");
    assert.equal(
      late.stdout,
      "restarted manager, alice (the manager was not idle again in time; the others were restarted anyway)\n",
    );
    const json = await hive.cli("restart", "--all", "--json");
    assert.deepEqual(RestartAllResponse.parse(JSON.parse(json.stdout)), {
      restarted: ["manager", "alice"],
      manager_idle: false,
    });
  });

  it("purge --yes sends the name as the confirmation", async () => {
    const r = await hive.asked("purge", "bob", "--yes");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls, [
      { subject: "hive.op.agent.purge", payload: { name: "bob", confirm: "bob" } },
    ]);
    assert.equal(r.stdout, "purged bob: deleted /hive/agents/bob/state; the name is free\n");
  });

  it("model, compact, new-session and cancel reach the agent's harness on hive.op.ctl.<agent>.*", async () => {
    const model = await hive.asked("model", "alice", "sonnet");
    assert.equal(model.code, 0, model.stderr);
    assert.deepEqual(model.calls, [
      { subject: "hive.op.ctl.alice.model", payload: { model: "sonnet" } },
    ]);
    assert.equal(model.stdout, "alice: model sonnet (was haiku); its next turn uses it\n");
    const compact = await hive.asked("compact", "alice");
    assert.deepEqual(compact.calls, [{ subject: "hive.op.ctl.alice.compact", payload: {} }]);
    assert.equal(
      compact.stdout,
      "alice: compacting its session (turn t-7, live on the dashboard)\n",
    );
    const fresh = await hive.asked("new-session", "alice");
    assert.deepEqual(fresh.calls, [{ subject: "hive.op.ctl.alice.new_session", payload: {} }]);
    assert.equal(fresh.stdout, "alice: its next turn starts a fresh session\n");
    const idle = await hive.asked("cancel", "alice");
    assert.deepEqual(idle.calls, [{ subject: "hive.op.ctl.alice.cancel", payload: {} }]);
    assert.equal(idle.stdout, "alice: no turn was running; nothing cancelled\n");
    hive.state.running = "t-8";
    const cancelled = await hive.cli("cancel", "alice");
    assert.equal(
      cancelled.stdout,
      "alice: cancelled turn t-8; its message is tried again (after the last try it comes back to you)\n",
    );
    const busy = await hive.asked("compact", "alice");
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr, "hive: alice is thinking; compact when idle\n");
    assert.equal(busy.calls.length, 1, "a conflict is not tried again");
  });

  it("an agent whose harness does not answer: the registry says why, at once", async () => {
    const stopped = await hive.asked("model", "carol", "sonnet");
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stderr, "hive: carol is not running; start it with: hive start carol\n");
    assert.deepEqual(stopped.calls, [{ subject: "hive.op.agents", payload: { all: true } }]);
    const gone = await hive.cli("cancel", "bob");
    assert.equal(gone.stderr, "hive: bob is destroyed (a tombstone): it runs no turns\n");
    const unknown = await hive.cli("compact", "dave", "--json");
    assert.equal(unknown.code, 1);
    assert.deepEqual(WireErrorJson.parse(JSON.parse(unknown.stdout)).error, {
      code: "not_found",
      message: "no agent named dave; the agents are: manager, alice, carol",
      retryable: false,
    });
  });
});
