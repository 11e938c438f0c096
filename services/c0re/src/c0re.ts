import {
  AgentLifecycleEvent,
  type Clock,
  type Db,
  hivePaths,
  Lifecycle,
  type Logger,
  MANAGER,
  type NatsConnection,
  publishEvent,
  type RetryPolicy,
  Roster,
  rpcs,
  type Service,
  serve,
  subjects,
  systemClock,
} from "@hyperhive/shared";
import { AgentControl } from "./agent-control.js";
import type { ContainerDriver, DriverEvent } from "./driver.js";
import { Greeter, startNotice } from "./greeter.js";
import { Registry } from "./registry.js";
import { AgentStates } from "./states.js";

/** Dependencies and settings of the c0re service. */
export interface C0reOptions {
  nc: NatsConnection;
  /** An open database with the registry's migrations applied. */
  db: Db;
  driver: ContainerDriver;
  log: Logger;
  /** The hive root (for the agents' state dir paths). */
  root: string;
  /** Timestamps and the start notices' retry pauses; default the system clock. */
  clock?: Clock;
  /** How start notices are retried while the broker cannot take them; default the greeter's. */
  greetPolicy?: RetryPolicy;
}

/**
 * The agent registry and lifecycle service, composed of its parts: the registry (sqlite), the
 * driver that runs agents, {@link AgentControl} behind the operator's requests,
 * {@link AgentStates} following the agents' states, and the {@link Greeter} that tells each
 * (re)started agent so. This class serves the subjects, turns driver facts into events, and keeps
 * the broker's roster current.
 */
export class C0re {
  readonly #o: C0reOptions;
  readonly #clock: Clock;
  readonly #life = new Lifecycle("c0re");
  readonly #registry: Registry;
  readonly #agents: AgentControl;
  readonly #states: AgentStates;
  readonly #greeter: Greeter;
  #services: Service[] = [];
  #unlisten: (() => void) | undefined;
  /** Unix ms of the last registry change, the roster's `at`. */
  #rosterAt = 0;

  constructor(opts: C0reOptions) {
    this.#o = opts;
    const { nc, log, driver } = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#registry = new Registry(opts.db);
    this.#agents = new AgentControl({ registry: this.#registry, driver, log, root: opts.root });
    this.#states = new AgentStates({
      nc,
      log,
      registry: this.#registry,
      isRunning: (name) => driver.status(name).running,
    });
    this.#greeter = new Greeter({
      nc,
      log,
      clock: this.#clock,
      signal: this.#life.signal,
      ...(opts.greetPolicy ? { policy: opts.greetPolicy } : {}),
    });
    // The first starts wait for ready lines (up to the driver's deadline), and a stop waits for
    // the start: stopping the agents as soon as the stop is asked ends those waits at once.
    const stopAgents = () =>
      driver.stopAll().catch((err: unknown) => log.error({ err }, "stopping the agents failed"));
    this.#life.signal.addEventListener("abort", () => void stopAgents(), { once: true });
  }

  /** Serves the subjects, then registers the manager and starts every agent meant to run. */
  start(): Promise<void> {
    return this.#life.start(async () => {
      const { nc, log, driver } = this.#o;
      this.#unlisten = driver.onEvent((e) => this.#onDriverEvent(e));
      this.#states.start();
      const opts = { queue: "c0re", log };
      const agents = this.#agents;
      const lifecycle = rpcs.opAgentLifecycle;
      this.#services = [
        serve(nc, subjects.c0re.roster, rpcs.roster, () => this.#roster(), opts),
        serve(nc, subjects.op.agents, rpcs.opAgents, () => ({ agents: agents.list() }), opts),
        serve(nc, subjects.op.agentStart, lifecycle, (r) => agents.start(r.name), opts),
        serve(nc, subjects.op.agentStop, lifecycle, (r) => agents.stop(r.name), opts),
        serve(nc, subjects.op.agentRestart, lifecycle, (r) => agents.restart(r.name), opts),
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
    // Told at every start, changed or not: a broker that missed a change while down catches up.
    this.#rosterChanged(now);
    // Nothing runs before c0re starts it: whatever state was stored is stale now.
    for (const row of this.#registry.list()) this.#states.markOffline(row.name, now);
    await this.#agents.startWanted(this.#life.signal);
  }

  /** Who may be mailed: every registered agent, as of the last registry change. */
  #roster(): Roster {
    return { agents: this.#registry.list().map((r) => r.name), at: this.#rosterAt };
  }

  /** The registry changed (or c0re started): tell the broker whom mail may go to. */
  #rosterChanged(at: number): void {
    this.#rosterAt = Math.max(at, this.#rosterAt);
    try {
      publishEvent(this.#o.nc, subjects.events.roster, Roster, this.#roster());
    } catch (err) {
      this.#o.log.warn({ err }, "could not publish the roster");
    }
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
