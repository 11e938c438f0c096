import { setTimeout as delay } from "node:timers/promises";
import {
  type AgentInfo,
  AgentLifecycleEvent,
  type AgentName,
  type AgentRole,
  type AgentState,
  AgentStateEvent,
  type Db,
  decodeJson,
  ErrorCode,
  HiveError,
  hivePaths,
  type Logger,
  MANAGER,
  type NatsConnection,
  publishEvent,
  Roster,
  request,
  respondError,
  rpcs,
  type Service,
  serve,
  subjects,
  subjectToken,
} from "@hyperhive/shared";
import { type ContainerDriver, type DriverEvent, firstLine } from "./driver.js";
import { type AgentRow, Registry } from "./registry.js";

/** Dependencies and settings of the c0re service. */
export interface C0reOptions {
  nc: NatsConnection;
  db: Db;
  driver: ContainerDriver;
  log: Logger;
  /** The hive root (for the agents' state dir paths). */
  root: string;
  clock?: () => number;
  /** Attempts at delivering one system message while the broker is unavailable; default 20. */
  systemSendAttempts?: number;
}

type Phase = "initialized" | "running" | "stopping" | "stopped";

/**
 * The agent registry and lifecycle service: keeps the registry in sqlite, runs agents through a
 * {@link ContainerDriver}, tracks their states from `hive.events.agent.*.state`, greets every
 * (re)started agent with a system message and answers the operator's agent requests.
 */
export class C0re {
  readonly #o: C0reOptions;
  readonly #clock: () => number;
  readonly #registry: Registry;
  readonly #services: Service[] = [];
  readonly #pending = new Set<Promise<void>>();
  #unlisten?: () => void;
  #stateLoop?: Promise<void>;
  #stateSub?: ReturnType<NatsConnection["subscribe"]>;
  #phase: Phase = "initialized";
  /** Unix ms of the last registry change, the roster's `at`. */
  #rosterAt = 0;
  #stopping?: Promise<void>;

  constructor(opts: C0reOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? Date.now;
    this.#registry = new Registry(opts.db);
  }

  /** Serves the subjects, then registers the manager and starts every agent meant to run. */
  async start(): Promise<void> {
    if (this.#phase !== "initialized") throw new Error(`c0re cannot start when ${this.#phase}`);
    this.#phase = "running";
    const { nc, log, driver } = this.#o;
    this.#unlisten = driver.onEvent((e) => this.#onDriverEvent(e));

    this.#stateSub = nc.subscribe(subjects.events.agentStateAll);
    const sub = this.#stateSub;
    this.#stateLoop = (async () => {
      for await (const msg of sub) this.#onStateEvent(msg.subject, msg.data, msg);
    })();

    const opts = { queue: "c0re", log };
    this.#services.push(
      serve(nc, subjects.c0re.roster, rpcs.roster, () => this.roster(), opts),
      serve(nc, subjects.op.agents, rpcs.opAgents, () => ({ agents: this.list() }), opts),
      serve(
        nc,
        subjects.op.agentStart,
        rpcs.opAgentLifecycle,
        (r) => this.startAgent(r.name),
        opts,
      ),
      serve(nc, subjects.op.agentStop, rpcs.opAgentLifecycle, (r) => this.stopAgent(r.name), opts),
      serve(
        nc,
        subjects.op.agentRestart,
        rpcs.opAgentLifecycle,
        (r) => this.restartAgent(r.name),
        opts,
      ),
    );
    await nc.flush();
    await this.#boot();
  }

  /** Who may be mailed: every registered agent, as of the last registry change. */
  roster(): Roster {
    return { agents: this.#registry.list().map((r) => r.name), at: this.#rosterAt };
  }

  /** The registry with live states, manager first. */
  list(): AgentInfo[] {
    return this.#registry.list().map((r) => this.#info(r));
  }

  /** Starts a registered agent that is not running; it is kept running from then on. */
  async startAgent(name: AgentName): Promise<{ agent: AgentInfo }> {
    const row = this.#require(name);
    const st = this.#o.driver.status(name);
    if (st.running || st.restartPending) {
      throw new HiveError(ErrorCode.Conflict, `${name} is already running`);
    }
    this.#registry.setDesired(name, "running");
    await this.#driverStart(row);
    return { agent: this.#info(this.#require(name)) };
  }

  /** Stops an agent and keeps it stopped (also across hive restarts) until started again. */
  async stopAgent(name: AgentName): Promise<{ agent: AgentInfo }> {
    const row = this.#require(name);
    const st = this.#o.driver.status(name);
    if (row.desired === "stopped" && !st.running && !st.restartPending) {
      throw new HiveError(ErrorCode.Conflict, `${name} is already stopped`);
    }
    this.#registry.setDesired(name, "stopped");
    await this.#o.driver.stop(name);
    return { agent: this.#info(this.#require(name)) };
  }

  /** Stops (if running) and starts an agent. */
  async restartAgent(name: AgentName): Promise<{ agent: AgentInfo }> {
    const row = this.#require(name);
    this.#registry.setDesired(name, "running");
    await this.#o.driver.stop(name);
    await this.#driverStart(row);
    return { agent: this.#info(this.#require(name)) };
  }

  /**
   * Stops serving and stops every agent (their desired state is kept, so the next start of
   * c0re brings them back). Idempotent; returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#phase = "stopping";
      await Promise.allSettled(this.#services.map((s) => s.stop()));
      await this.#o.driver.stopAll();
      if (this.#stateSub && !this.#stateSub.isClosed()) await this.#stateSub.drain();
      await this.#stateLoop;
      this.#unlisten?.();
      await Promise.allSettled([...this.#pending]);
      this.#phase = "stopped";
    })();
    return this.#stopping;
  }

  async #boot(): Promise<void> {
    const now = this.#clock();
    if (this.#registry.register(MANAGER, "manager", now)) {
      this.#o.log.info("registered the manager agent");
    }
    // Told at every start, changed or not: a broker that missed a change while down catches up.
    this.#rosterChanged(now);
    // Nothing runs before c0re starts it: whatever state was stored is stale now.
    for (const row of this.#registry.list()) this.#setState(row.name, "offline", now);
    const wanted = this.#registry.list().filter((r) => r.desired === "running");
    const results = await Promise.allSettled(wanted.map((r) => this.#driverStart(r)));
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        this.#o.log.error(
          { agent: wanted[i]?.name, err: r.reason },
          "agent failed to start; retrying with backoff",
        );
      }
    });
  }

  async #driverStart(row: AgentRow): Promise<void> {
    const spec = { name: row.name, role: row.role };
    await this.#o.driver.create(spec);
    try {
      await this.#o.driver.start(spec);
    } catch (e) {
      throw new HiveError(
        ErrorCode.Internal,
        `${row.name} did not start (${firstLine(e)}); c0re keeps retrying with backoff`,
        { cause: e },
      );
    }
  }

  #require(name: AgentName): AgentRow {
    const row = this.#registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    return row;
  }

  #info(row: AgentRow): AgentInfo {
    return {
      name: row.name,
      role: row.role as AgentRole,
      state: row.state,
      state_since: row.state_since,
      running: this.#o.driver.status(row.name).running,
      state_dir: hivePaths(this.#o.root).agentStateDir(row.name),
      started_at: row.started_at,
      starts: row.starts,
    };
  }

  #onDriverEvent(e: DriverEvent): void {
    const { nc, log } = this.#o;
    const detail =
      e.kind === "exited" ? e.detail : e.kind === "restarting" ? `in ${e.delayMs} ms` : undefined;
    try {
      publishEvent(nc, subjects.events.agentLifecycle(e.agent), AgentLifecycleEvent, {
        agent: e.agent,
        event: e.kind,
        at: e.at,
        ...(detail === undefined ? {} : { detail }),
      });
    } catch (err) {
      log.warn({ err, agent: e.agent }, "could not publish lifecycle event");
    }
    switch (e.kind) {
      case "started": {
        const before = this.#registry.get(e.agent);
        this.#registry.recordStart(e.agent, e.at);
        const how = e.automatic
          ? "restarted after your harness exited unexpectedly"
          : (before?.starts ?? 0) === 0
            ? "started for the first time"
            : "(re)started";
        const dir = hivePaths(this.#o.root).agentStateDir(e.agent);
        this.#greet(
          e.agent,
          e.at,
          `c0re: you were just ${how} at ${new Date(e.at).toISOString()}; your --continue session and your notes in ${dir} are intact.`,
        );
        break;
      }
      case "exited":
      case "stopped":
        this.#setState(e.agent, "offline", e.at, e.kind === "exited" ? e.detail : "stopped");
        break;
      case "restarting":
        break;
    }
  }

  /** The registry changed (or c0re started): tell the broker whom mail may go to. */
  #rosterChanged(at: number): void {
    this.#rosterAt = Math.max(at, this.#rosterAt);
    try {
      publishEvent(this.#o.nc, subjects.events.roster, Roster, this.roster());
    } catch (err) {
      this.#o.log.warn({ err }, "could not publish the roster");
    }
  }

  /** Drops a system message into the agent's inbox, retrying while the broker is unavailable. */
  #greet(agent: AgentName, at: number, body: string): void {
    const attempts = this.#o.systemSendAttempts ?? 20;
    const p = (async () => {
      for (let i = 1; ; i++) {
        try {
          await request(this.#o.nc, subjects.sys.send, rpcs.send, {
            to: agent,
            body,
            client_id: `c0re-start-${agent}-${at}`,
          });
          return;
        } catch (e) {
          const retry = HiveError.is(e) && e.retryable && i < attempts && this.#phase === "running";
          if (!retry) {
            this.#o.log.error({ err: e, agent }, "could not send the start notice");
            return;
          }
          await delay(500);
        }
      }
    })().finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** Persists a state and, when c0re itself decided it (offline), announces it. */
  #setState(name: AgentName, state: AgentState, since: number, note?: string): void {
    if (!this.#registry.setState(name, state, since)) return;
    try {
      publishEvent(this.#o.nc, subjects.events.agentState(name), AgentStateEvent, {
        agent: name,
        state,
        since,
        ...(note === undefined ? {} : { note: note.slice(0, 500) }),
      });
    } catch (err) {
      this.#o.log.warn({ err, agent: name }, "could not publish state event");
    }
  }

  #onStateEvent(subject: string, data: Uint8Array, msg: Parameters<typeof respondError>[0]): void {
    const name = subjectToken(subject, 3);
    let ev: AgentStateEvent;
    try {
      ev = AgentStateEvent.parse(decodeJson(data));
      if (ev.agent !== name) {
        throw new HiveError(
          ErrorCode.BadRequest,
          `agent "${ev.agent}" does not match the subject's agent "${name}"`,
        );
      }
    } catch (e) {
      this.#o.log.warn({ subject, err: e }, "dropped malformed state event");
      respondError(msg, e);
      return;
    }
    const row = this.#registry.get(ev.agent);
    if (!row || ev.since < row.state_since) return;
    // A late event from a harness that is already gone must not resurrect it.
    if (ev.state !== "offline" && !this.#o.driver.status(ev.agent).running) return;
    this.#registry.setState(ev.agent, ev.state, ev.since);
  }
}
