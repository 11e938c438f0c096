import {
  type AgentInfo,
  type Approval,
  ErrorCode,
  HiveError,
  type NewSessionResponse,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, tempDir } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, beforeEach } from "vitest";
import {
  freshMail,
  type MailState,
  restartSampleClock as restartMailClock,
  standInMail,
} from "./fake-mail.js";
import {
  freshReminders,
  type ReminderState,
  restartSampleClock as restartReminderClock,
  standInScheduler,
} from "./fake-reminders.js";
import { cleanEnv, hive, type Result } from "./helpers.js";
import { agentInfo, type Call, pretendHive, StandIns, sampleApprovals } from "./standins.js";

/**
 * A hive as the operator's commands see it, stood in for on a real nats-server: c0re (registry,
 * lifecycle, approvals, questions, open threads), the broker (send, history), the scheduler
 * (reminders) and alice's harness (the controls), each answering with the real schemas
 * from {@link FakeState}, which a test changes. `hive.json` of a temp root points at it.
 */

/** What the stand-ins answer. */
export interface FakeState extends MailState, ReminderState {
  /** The approvals queue by id. */
  queue: Map<number, Approval>;
  /** Approving fails when carried out (state failed). */
  failApprovals: boolean;
  /** restart_all's manager_idle. */
  managerIdle: boolean;
  /** alice's running turn, if any. */
  running: string | null;
}

/** The state each test starts from: #3 and #2 pending, #1 denied; alice idle. */
export function freshState(): FakeState {
  return {
    queue: new Map(sampleApprovals(Date.now()).map((a) => [a.id, a])),
    failApprovals: false,
    managerIdle: true,
    running: null,
    ...freshMail(),
    ...freshReminders(),
  };
}

/** The active agents: manager and alice running, carol stopped (its model never said). */
function active(): AgentInfo[] {
  return [
    agentInfo("manager"),
    agentInfo("alice"),
    agentInfo("carol", { running: false, state: "offline", model: null }),
  ];
}

/** bob, destroyed ten minutes before the test file started. */
const TOMBSTONE = agentInfo("bob", {
  running: false,
  state: "offline",
  tombstoned_at: Date.now() - 600_000,
});

/** c0re's decision, as far as the CLI can tell it: conflict twice, not_found unknown. */
function decide(s: FakeState, id: number, to: "approved" | "denied", reason?: string): Approval {
  const a = s.queue.get(id);
  if (!a) throw new HiveError(ErrorCode.NotFound, `no approval #${id}`);
  if (a.state !== "pending") {
    throw new HiveError(ErrorCode.Conflict, `approval #${id} is already ${a.state}`);
  }
  const who = a.kind === "spawn" ? a.details.name : a.details.agent;
  const done: Approval = { ...a, decided_at: Date.now(), decided_by: "operator", state: to };
  if (to === "denied") done.note = reason ?? null;
  else if (s.failApprovals) {
    done.state = "failed";
    done.note = "meta moved on; rebase and ask again";
  } else done.note = a.kind === "spawn" ? `${who} is starting` : `${who} restarted with it`;
  s.queue.set(id, done);
  return done;
}

function standInC0re(stand: StandIns, s: FakeState): void {
  stand.on(subjects.op.agents, rpcs.opAgents, (r) => ({
    agents: r.all ? [...active(), TOMBSTONE] : active(),
  }));
  stand.on(subjects.op.approvals, rpcs.opApprovals, (r) => ({
    approvals: [...s.queue.values()].filter((a) => r.all || a.state === "pending"),
  }));
  stand.on(subjects.op.approve, rpcs.opApprove, (r) => ({ approval: decide(s, r.id, "approved") }));
  stand.on(subjects.op.deny, rpcs.opDeny, (r) => ({
    approval: decide(s, r.id, "denied", r.reason),
  }));
  const lifecycle = (r: { name: string }) => {
    if (!active().some((a) => a.name === r.name)) {
      throw new HiveError(ErrorCode.NotFound, `no agent named ${r.name}`);
    }
    return { agent: agentInfo(r.name, { starts: 2 }) };
  };
  for (const verb of ["agentStop", "agentStart", "agentRestart", "agentDestroy"] as const) {
    stand.on(subjects.op[verb], rpcs.opAgentLifecycle, lifecycle);
  }
  stand.on(subjects.op.agentPurge, rpcs.opPurge, (r) => ({
    name: r.name,
    state_dir: `/hive/agents/${r.name}/state`,
  }));
  stand.on(subjects.op.restartAll, rpcs.opRestartAll, () => ({
    restarted: ["manager", "alice"],
    manager_idle: s.managerIdle,
  }));
}

function standInAlicesHarness(stand: StandIns, s: FakeState): void {
  stand.on(subjects.op.ctl.model("alice"), rpcs.ctlModel, (r) => ({
    model: r.model,
    previous: "haiku",
  }));
  stand.on(subjects.op.ctl.compact("alice"), rpcs.ctlCompact, () => {
    if (s.running) throw new HiveError(ErrorCode.Conflict, "alice is thinking; compact when idle");
    return { turn_id: "t-7" };
  });
  const fresh: NewSessionResponse = { fresh_next_turn: true };
  stand.on(subjects.op.ctl.newSession("alice"), rpcs.ctlNewSession, () => fresh);
  stand.on(subjects.op.ctl.cancel("alice"), rpcs.ctlCancel, () => ({
    cancelled: s.running !== null,
    turn_id: s.running,
  }));
}

export interface FakeHive {
  readonly state: FakeState;
  /** Runs `hive <args> --root <the fake's root>`. */
  cli(...args: string[]): Promise<Result>;
  /** The same, and what the stand-ins were asked meanwhile. */
  asked(...args: string[]): Promise<Result & { calls: Call[] }>;
  /** Back to {@link freshState}. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeHive(): Promise<FakeHive> {
  const nats: NatsServerHandle = await natsForTests();
  const tmp = tempDir("hive-fake-");
  const env = cleanEnv(tmp.path);
  pretendHive(tmp.path, nats.url);
  const stand = await StandIns.connect(nats.url);
  const state = freshState();
  standInC0re(stand, state);
  standInAlicesHarness(stand, state);
  standInMail(stand, state);
  standInScheduler(stand, state);
  await stand.flush();
  const cli = (...args: string[]) => hive([...args, "--root", tmp.path], env);
  return {
    state,
    cli,
    async asked(...args) {
      const from = stand.calls.length;
      const r = await cli(...args);
      return { ...r, calls: stand.since(from) };
    },
    reset: () => Object.assign(state, freshState()),
    async close() {
      await stand.close();
      await nats.stop();
      tmp.remove();
    },
  };
}

/**
 * A fake hive for the tests of the calling `describe`: started before them, reset to
 * {@link freshState} before each (its samples relative to that test's start), closed after them.
 */
export function useFakeHive(): FakeHive {
  let started: FakeHive | undefined;
  beforeAll(async () => {
    started = await startFakeHive();
  });
  beforeEach(() => {
    restartMailClock();
    restartReminderClock();
    started?.reset();
  });
  afterAll(async () => {
    await started?.close();
  });
  const get = (): FakeHive => {
    if (!started) throw new Error("the fake hive is not started");
    return started;
  };
  return {
    get state() {
      return get().state;
    },
    cli: (...args) => get().cli(...args),
    asked: (...args) => get().asked(...args),
    reset: () => get().reset(),
    close: () => get().close(),
  };
}
