import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ApprovalResponse,
  ErrorCode,
  HiveError,
  type NatsConnection,
  rpcs,
  type Service,
  serve,
  subjects,
  WhoAmI,
} from "@hyperhive/shared";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { socketRequest } from "../src/socket-client.js";
import { Bench, toolCall } from "./bench.js";
import { agentInfo, pendingFrom } from "./c0re-answers.js";
import { REPO } from "./procs.js";

const SHA = "89abcdef0123456789abcdef0123456789abcdef";
/** The version whoami must say: the harness package's. */
const VERSION = z
  .looseObject({ version: z.string() })
  .parse(JSON.parse(readFileSync(join(REPO, "services/harness/package.json"), "utf8"))).version;
const TURN_TIMEOUT_MS = 90_000;

/** What the stand-in c0re was asked: the subject (so the caller) and the payload. */
interface Asked {
  subject: string;
  payload: unknown;
}

/**
 * Stands in for c0re's side of the manager's verbs for one caller: records every request and
 * answers as c0re would (an approval queued; the sub-agent as it now is; `forbidden` for the
 * manager's own lifecycle).
 */
function standInC0re(nc: NatsConnection, caller: string, asked: Asked[]): Service[] {
  const pending = pendingFrom(caller);
  const a = subjects.agent;
  return [
    serve(nc, a.spawn(caller), rpcs.spawn, (req, m): ApprovalResponse => {
      asked.push({ subject: m.subject, payload: req });
      return {
        approval: { ...pending, id: 7, kind: "spawn", summary: `spawn ${req.name}`, details: req },
      };
    }),
    ...(["kill", "start", "restart", "update"] as const).map((verb) =>
      serve(nc, a[verb](caller), rpcs.agentLifecycle, (req, m) => {
        asked.push({ subject: m.subject, payload: req });
        if (req.name === caller) {
          throw new HiveError(ErrorCode.Forbidden, "the manager's own lifecycle is the operator's");
        }
        return { agent: agentInfo(req.name, verb !== "kill") };
      }),
    ),
    serve(nc, a.applyCommit(caller), rpcs.applyCommit, (req, m): ApprovalResponse => {
      asked.push({ subject: m.subject, payload: req });
      return {
        approval: {
          ...pending,
          id: 8,
          kind: "apply_commit",
          summary: `config of ${req.agent}: model haiku -> sonnet`,
          details: { agent: req.agent, commit: SHA, base: SHA, diff: "-x\n+y\n" },
        },
      };
    }),
  ];
}

/**
 * whoami for every agent and the manager's verbs, through the real claude and its real MCP
 * server, bridged by an in-process harness to NATS, where the test stands in for c0re.
 */
describe("whoami and the manager's tools", () => {
  const bench = new Bench(["boss", "subby"]);
  const asked: Asked[] = [];
  beforeAll(async () => {
    await bench.start();
    standInC0re(bench.nc, "boss", asked);
    standInC0re(bench.nc, "subby", asked);
    await bench.nc.flush();
  });
  afterEach(() => bench.stopHarnesses());
  afterAll(() => bench.stop());

  const toolResults = async (agent: string, body: string): Promise<string[]> =>
    (await bench.toolTurn(agent, body)).results;
  const call = toolCall;

  it(
    "the manager: whoami from the harness, and every verb reaches c0re on hive.agent.<me>.<verb>",
    async () => {
      await bench.ctl.setScript([
        {
          match: "build a team",
          reply: [
            ...call("whoami"),
            ...call("request_spawn", { name: "alice" }),
            ...call("kill", { name: "alice" }),
            ...call("start", { name: "alice" }),
            ...call("restart", { name: "alice" }),
            ...call("update", { name: "alice" }),
            ...call("request_apply_commit", { agent: "alice", commit_ref: SHA }),
            ...call("kill", { name: "boss" }),
            { text: "done" },
          ],
        },
      ]);
      const h = await bench.harness("boss", {
        env: { HIVE_ROLE: "manager", HYPERHIVE_REV: "rev-under-test" },
      });
      const results = await toolResults("boss", "build a team");
      assert.equal(results.length, 8, results.join("\n---\n"));

      const me = WhoAmI.parse(JSON.parse(results[0] ?? ""));
      assert.deepEqual(me, {
        name: "boss",
        role: "manager",
        model: "haiku",
        version: VERSION,
        rev: "rev-under-test",
        started_at: me.started_at,
        state_dir: h.cfg.stateDir,
        shared_dir: null,
      });
      assert.deepEqual(me, h.loop.whoami(), "what claude got is what the harness says");
      assert.deepEqual(results.slice(1), [
        "approval #7 queued: spawn alice (pending the operator's decision; the outcome will arrive in your inbox)",
        "alice stopped: not running, state offline",
        "alice started: running, state idle, model haiku",
        "alice restarted: running, state idle, model haiku",
        "alice updated with its current config and restarted: running, state idle, model haiku",
        "approval #8 queued: config of alice (commit 89abcde): config of alice: model haiku -> sonnet " +
          "(pending the operator's decision; the outcome will arrive in your inbox)",
        "error (forbidden): the manager's own lifecycle is the operator's",
      ]);
      const v = subjects.agent;
      assert.deepEqual(asked, [
        { subject: v.spawn("boss"), payload: { name: "alice" } },
        { subject: v.kill("boss"), payload: { name: "alice" } },
        { subject: v.start("boss"), payload: { name: "alice" } },
        { subject: v.restart("boss"), payload: { name: "alice" } },
        { subject: v.update("boss"), payload: { name: "alice" } },
        { subject: v.applyCommit("boss"), payload: { agent: "alice", commit_ref: SHA } },
        { subject: v.kill("boss"), payload: { name: "boss" } },
      ]);
    },
    TURN_TIMEOUT_MS,
  );

  it(
    "a sub-agent: whoami works; the manager's tools are not there, and its socket refuses them without asking c0re",
    async () => {
      asked.length = 0;
      await bench.ctl.setScript([
        {
          match: "try to be the boss",
          reply: [
            ...call("whoami"),
            ...call("request_spawn", { name: "eve" }),
            ...call("kill", { name: "boss" }),
            { text: "done" },
          ],
        },
      ]);
      const h = await bench.harness("subby");
      const results = await toolResults("subby", "try to be the boss");
      assert.equal(results.length, 3, results.join("\n---\n"));
      const me = WhoAmI.parse(JSON.parse(results[0] ?? ""));
      assert.equal(me.role, "agent");
      assert.equal(me.name, "subby");
      assert.equal(me.rev, null);
      assert.match(results[1] ?? "", /No such tool available: mcp__hyperhive__request_spawn/);
      assert.match(results[2] ?? "", /No such tool available: mcp__hyperhive__kill/);
      // Anything else in the container could still write to the socket: refused there too.
      await assert.rejects(
        socketRequest(h.cfg.socketPath, "kill", { name: "boss" }),
        (e) => HiveError.is(e, ErrorCode.Forbidden) && /not the manager/.test(e.message),
      );
      await assert.rejects(
        socketRequest(h.cfg.socketPath, "request_apply_commit", { agent: "x", commit_ref: "HEAD" }),
        (e) => HiveError.is(e, ErrorCode.Forbidden),
      );
      await bench.nc.flush();
      assert.deepEqual(asked, [], "nothing reached c0re");
    },
    TURN_TIMEOUT_MS,
  );
});
