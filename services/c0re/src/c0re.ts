import { join } from "node:path";
import {
  type Clock,
  type Db,
  DEFAULT_MODEL,
  hivePaths,
  Lifecycle,
  type Logger,
  MANAGER,
  type ModelName,
  type NatsConnection,
  type RetryPolicy,
  rpcs,
  type Service,
  serve,
  subjects,
  systemClock,
} from "@hyperhive/shared";
import { AgentControl } from "./agent-control.js";
import type { AgentCredentials } from "./agent-credentials.js";
import { ApprovalQueue } from "./approval-queue.js";
import { ApprovalsStore } from "./approvals-store.js";
import type { ContainerDriver, DriverEvent } from "./driver.js";
import { Events } from "./events.js";
import { serveFiles } from "./file-subjects.js";
import { Greeter, startNotice } from "./greeter.js";
import { ManagerClone, managerCloneDir } from "./manager-clone.js";
import { serveManagerVerbs } from "./manager-verbs.js";
import { MetaRepo } from "./meta-repo.js";
import { serveQuestions } from "./question-subjects.js";
import { Questions } from "./questions.js";
import { QuestionsStore } from "./questions-store.js";
import { Registry } from "./registry.js";
import { RestartAll } from "./restart-all.js";
import { RosterKeeper } from "./roster.js";
import { writeRunConfig } from "./run-config.js";
import { StateFiles } from "./state-files.js";
import { AgentStates } from "./states.js";
import { Team } from "./team.js";
import { OpenThreads } from "./threads.js";

/** Dependencies and settings of the c0re service. */
export interface C0reOptions {
  nc: NatsConnection;
  /** An open database with c0re's migrations (`schema.ts`) applied. */
  db: Db;
  driver: ContainerDriver;
  log: Logger;
  /** The hive root (agents' dirs; the meta repo is `<root>/meta`). */
  root: string;
  /**
   * Timestamps, start-notice retries, question deadlines and the restart-all deadline; default
   * the system clock.
   */
  clock?: Clock;
  /** How start notices are retried while the broker cannot take them; default the greeter's. */
  greetPolicy?: RetryPolicy;
  /** The model meta's `defaults/agent.json` names when meta is created; default `haiku`. */
  defaultModel?: ModelName;
  /** How long restart-all waits for the manager to be idle again, ms; default 120000. */
  restartAllIdleMs?: number;
  /** Each agent's NATS credentials (minted before a start, revoked at destroy); none without auth. */
  credentials?: AgentCredentials;
  /** The largest state file served to the operator, bytes; default the contract's cap. */
  fileCapBytes?: number;
}

/**
 * The control plane, composed of its parts: the registry and approvals (sqlite), the meta repo
 * and the manager's clone of it, the driver that runs agents, {@link AgentControl} and
 * {@link Team} behind the requests, the {@link ApprovalQueue}, {@link Questions} and
 * {@link OpenThreads}, {@link RestartAll}, {@link AgentStates} following the agents' states, and
 * the {@link Greeter} for system messages.
 * This class serves the subjects, turns driver facts into events and notices, and boots the hive.
 */
export class C0re {
  readonly #o: C0reOptions;
  readonly #clock: Clock;
  readonly #life = new Lifecycle("c0re");
  readonly #registry: Registry;
  readonly #events: Events;
  readonly #roster: RosterKeeper;
  readonly #meta: MetaRepo;
  readonly #clone: ManagerClone;
  readonly #agents: AgentControl;
  readonly #states: AgentStates;
  readonly #greeter: Greeter;
  readonly #team: Team;
  readonly #queue: ApprovalQueue;
  readonly #restartAll: RestartAll;
  readonly #questions: Questions;
  readonly #threads: OpenThreads;
  #services: Service[] = [];
  #unlisten: (() => void) | undefined;

  constructor(opts: C0reOptions) {
    this.#o = opts;
    const { nc, log, driver, root } = opts;
    const clock = opts.clock ?? systemClock;
    const signal = this.#life.signal;
    this.#clock = clock;
    const registry = new Registry(opts.db);
    const approvals = new ApprovalsStore(opts.db);
    const events = new Events(nc, log);
    const roster = new RosterKeeper({ registry, approvals, events });
    const meta = new MetaRepo({
      dir: join(root, "meta"),
      log,
      defaultModel: opts.defaultModel ?? DEFAULT_MODEL,
    });
    const clone = new ManagerClone({
      metaDir: meta.dir,
      dir: managerCloneDir(root),
      log,
      adopt: (dir) => driver.adopt(MANAGER, dir),
    });
    const agents = new AgentControl({
      registry,
      driver,
      log,
      clock,
      events,
      root,
      prepare: (name) => writeRunConfig(meta, root, name),
      credentials: opts.credentials,
    });
    const isRunning = (name: string) => driver.status(name).running;
    const states = new AgentStates({ nc, log, registry, isRunning });
    const greetPolicy = opts.greetPolicy ? { policy: opts.greetPolicy } : {};
    const greeter = new Greeter({ nc, log, clock, signal, ...greetPolicy });
    const asked = new QuestionsStore(opts.db);
    const questions = new Questions({ store: asked, registry, events, greeter, clock, log });
    const team = new Team({
      registry,
      agents,
      driver,
      meta,
      clone,
      events,
      roster,
      greeter,
      questions,
      clock,
      log,
      root,
      signal,
      credentials: opts.credentials,
    });
    const queue = new ApprovalQueue({
      store: approvals,
      registry,
      meta,
      cloneDir: clone.dir,
      executors: team,
      events,
      roster,
      greeter,
      clock,
      log,
    });
    const idleMs =
      opts.restartAllIdleMs === undefined ? {} : { idleTimeoutMs: opts.restartAllIdleMs };
    const restartAll = new RestartAll({
      registry,
      agents,
      states,
      greeter,
      clock,
      log,
      signal,
      ...idleMs,
    });
    this.#registry = registry;
    this.#events = events;
    this.#roster = roster;
    this.#meta = meta;
    this.#clone = clone;
    this.#agents = agents;
    this.#states = states;
    this.#greeter = greeter;
    this.#team = team;
    this.#queue = queue;
    this.#restartAll = restartAll;
    this.#questions = questions;
    this.#threads = new OpenThreads({ approvals, questions: asked, registry, clock });
    // The first starts wait for ready lines (up to the driver's deadline), and a stop waits for
    // the start: stopping the agents as soon as the stop is asked ends those waits at once.
    const stopAgents = () =>
      driver.stopAll().catch((err: unknown) => log.error({ err }, "stopping the agents failed"));
    signal.addEventListener("abort", () => void stopAgents(), { once: true });
  }

  /** Serves the subjects, then prepares meta, registers the manager and starts every agent meant to run. */
  start(): Promise<void> {
    return this.#life.start(async () => {
      const { nc, log, driver } = this.#o;
      this.#unlisten = driver.onEvent((e) => this.#onDriverEvent(e));
      this.#states.start();
      this.#questions.start();
      const opts = { queue: "c0re", log };
      const agents = this.#agents;
      const team = this.#team;
      const queue = this.#queue;
      const op = subjects.op;
      const lifecycle = rpcs.opAgentLifecycle;
      this.#services = [
        serve(nc, subjects.c0re.roster, rpcs.roster, () => this.#roster.current(), opts),
        serve(nc, op.agents, rpcs.opAgents, (r) => ({ agents: agents.list(r.all ?? false) }), opts),
        serve(nc, op.agentStart, lifecycle, (r) => agents.start(r.name), opts),
        serve(nc, op.agentStop, lifecycle, (r) => agents.stop(r.name), opts),
        serve(nc, op.agentRestart, lifecycle, (r) => agents.restart(r.name), opts),
        serve(nc, op.agentDestroy, lifecycle, (r) => team.destroy(r.name), opts),
        serve(nc, op.agentPurge, rpcs.opPurge, (r) => team.purge(r.name, r.confirm), opts),
        serve(nc, op.restartAll, rpcs.opRestartAll, () => this.#restartAll.run(), opts),
        serve(
          nc,
          op.approvals,
          rpcs.opApprovals,
          (r) => ({ approvals: queue.list(r.all ?? false) }),
          opts,
        ),
        serve(
          nc,
          op.approve,
          rpcs.opApprove,
          async (r) => ({ approval: await queue.approve(r.id) }),
          opts,
        ),
        serve(nc, op.deny, rpcs.opDeny, (r) => ({ approval: queue.deny(r.id, r.reason) }), opts),
        ...serveManagerVerbs({ nc, log, registry: this.#registry, agents, queue }),
        ...serveQuestions({
          nc,
          log,
          registry: this.#registry,
          questions: this.#questions,
          threads: this.#threads,
        }),
        ...serveFiles({
          nc,
          log,
          files: new StateFiles({
            root: this.#o.root,
            // Tombstones too: their state dir is kept until purged.
            known: (name) => this.#registry.get(name) !== undefined,
            capBytes: this.#o.fileCapBytes,
          }),
        }),
      ];
      await nc.flush();
      await this.#boot();
    });
  }

  /**
   * Stops serving and stops every agent (their desired state is kept, so the next start of
   * c0re brings them back). Idempotent; returns the same promise.
   */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      await Promise.allSettled(this.#services.map((s) => s.stop()));
      this.#questions.stop();
      await this.#o.driver.stopAll();
      await this.#states.stop();
      this.#unlisten?.();
      await this.#greeter.settled();
    });
  }

  async #boot(): Promise<void> {
    const now = this.#clock.now();
    if (this.#registry.register(MANAGER, "manager", now)) {
      this.#o.log.info("registered the manager agent");
    }
    // Every agent has its config in meta (tombstones keep theirs until purged), and the manager
    // a clone to propose changes from.
    await this.#meta.init(this.#registry.list().map((r) => r.name));
    await this.#clone.ensure();
    await this.#clone.sync();
    // Told at every start, changed or not: a broker that missed a change while down catches up.
    this.#roster.changed(now);
    // Nothing runs before c0re starts it: whatever state was stored is stale now.
    for (const row of this.#registry.list()) this.#states.markOffline(row.name, now);
    await this.#agents.startWanted(this.#life.signal);
  }

  #onDriverEvent(e: DriverEvent): void {
    const detail =
      e.kind === "exited" ? e.detail : e.kind === "restarting" ? `in ${e.delayMs} ms` : undefined;
    this.#events.lifecycle(e.agent, e.kind, e.at, detail);
    switch (e.kind) {
      case "started": {
        const before = this.#registry.get(e.agent);
        this.#registry.recordStart(e.agent, e.at);
        const kind = e.automatic ? "automatic" : (before?.starts ?? 0) === 0 ? "first" : "manual";
        const dir = hivePaths(this.#o.root).agentStateDir(e.agent);
        this.#greeter.greet(e.agent, e.at, startNotice(kind, e.at, dir));
        break;
      }
      case "exited":
        this.#states.markOffline(e.agent, e.at, e.detail);
        break;
      case "stopped":
        this.#states.markOffline(e.agent, e.at, "stopped");
        break;
      case "restarting":
        break;
    }
  }
}
