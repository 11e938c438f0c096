import {
  type AgentInfo,
  type AgentName,
  type AgentRunConfig,
  type Clock,
  ErrorCode,
  HiveError,
  hivePaths,
  type Logger,
} from "@hyperhive/shared";
import type { AgentCredentials } from "./agent-credentials.js";
import { type ContainerDriver, firstLine } from "./driver.js";
import type { Events } from "./events.js";
import { shortSha } from "./meta-repo.js";
import type { AgentRow, Registry } from "./registry.js";

export interface AgentControlOptions {
  registry: Registry;
  driver: ContainerDriver;
  log: Logger;
  clock: Clock;
  events: Events;
  /** The hive root (for the agents' state dir paths). */
  root: string;
  /** Hands an agent its config before each start (and on update); resolves with what it handed. */
  prepare: (name: AgentName) => Promise<AgentRunConfig>;
  /** Each agent's NATS credentials, made sure of before each start; none on a hive without auth. */
  credentials?: AgentCredentials | undefined;
}

/** Hooks into a restart. */
export interface RestartHooks {
  /** Called once the old run is gone, before the new one starts. */
  stopped?: () => void;
}

/** A reply to a lifecycle request: the agent as it is afterwards. */
export interface AgentReply {
  agent: AgentInfo;
}

/**
 * Running agents as the operator and the manager ask: list, start, stop, restart, update. The
 * registry keeps what is wanted (`desired`, across c0re restarts); the driver does it; every
 * start is preceded by handing the agent its config. Tombstones are not run. Failures are typed
 * wire errors.
 */
export class AgentControl {
  readonly #o: AgentControlOptions;

  constructor(o: AgentControlOptions) {
    this.#o = o;
  }

  /** The registry with live states, manager first; tombstones only with `all`. */
  list(all = false): AgentInfo[] {
    const { registry } = this.#o;
    return (all ? registry.list() : registry.active()).map((r) => this.#info(r));
  }

  /** One agent as it is now (tombstones too). */
  info(name: AgentName): AgentInfo {
    return this.#info(this.#require(name));
  }

  /** Starts a registered agent that is not running; it is kept running from then on. */
  async start(name: AgentName): Promise<AgentReply> {
    const row = this.#requireActive(name);
    const st = this.#o.driver.status(name);
    if (st.running || st.restartPending) {
      throw new HiveError(ErrorCode.Conflict, `${name} is already running`);
    }
    this.#o.registry.setDesired(name, "running");
    await this.#run(row);
    return this.#reply(name);
  }

  /** Stops an agent and keeps it stopped (also across hive restarts) until started again. */
  async stop(name: AgentName): Promise<AgentReply> {
    const row = this.#requireActive(name);
    const st = this.#o.driver.status(name);
    if (row.desired === "stopped" && !st.running && !st.restartPending) {
      throw new HiveError(ErrorCode.Conflict, `${name} is already stopped`);
    }
    this.#o.registry.setDesired(name, "stopped");
    await this.#o.driver.stop(name);
    return this.#reply(name);
  }

  /** Stops (if running) and starts an agent. */
  async restart(name: AgentName, hooks: RestartHooks = {}): Promise<AgentReply> {
    const row = this.#requireActive(name);
    this.#o.registry.setDesired(name, "running");
    await this.#o.driver.stop(name);
    hooks.stopped?.();
    await this.#run(row);
    return this.#reply(name);
  }

  /**
   * Re-applies an agent's current config: hands it over again and restarts the agent if it is
   * meant to run (a stopped one gets it at its next start). Publishes `updated` with the config's
   * commit. Idempotent.
   */
  async update(name: AgentName): Promise<AgentReply> {
    const row = this.#requireActive(name);
    let rc: AgentRunConfig;
    if (row.desired === "running") {
      await this.#o.driver.stop(name);
      rc = await this.#run(row);
    } else {
      rc = await this.#o.prepare(name);
    }
    this.#o.events.lifecycle(name, "updated", this.#o.clock.now(), `config ${shortSha(rc.rev)}`);
    return this.#reply(name);
  }

  /**
   * Starts every agent meant to run, together. One that fails its first start is logged and
   * left to the driver, which keeps retrying it with backoff; after `signal` aborts (c0re is
   * stopping) failures are the stop's doing and go unsaid.
   */
  async startWanted(signal: AbortSignal): Promise<void> {
    const wanted = this.#o.registry.active().filter((r) => r.desired === "running");
    const results = await Promise.allSettled(wanted.map((r) => this.#run(r)));
    results.forEach((r, i) => {
      if (r.status === "rejected" && !signal.aborted) {
        this.#o.log.error(
          { agent: wanted[i]?.name, err: r.reason },
          "agent failed to start; retrying with backoff",
        );
      }
    });
  }

  async #run(row: AgentRow): Promise<AgentRunConfig> {
    const spec = { name: row.name, role: row.role };
    await this.#o.driver.create(spec);
    await this.#o.credentials?.issue(spec);
    const rc = await this.#o.prepare(row.name);
    try {
      await this.#o.driver.start(spec);
      return rc;
    } catch (e) {
      throw new HiveError(
        ErrorCode.Internal,
        `${row.name} did not start (${firstLine(e)}); c0re keeps retrying with backoff`,
        { cause: e },
      );
    }
  }

  #require(name: AgentName): AgentRow {
    const row = this.#o.registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    return row;
  }

  /** A registered agent that is not a tombstone. */
  #requireActive(name: AgentName): AgentRow {
    const row = this.#require(name);
    if (row.tombstoned_at !== null) {
      throw new HiveError(
        ErrorCode.Conflict,
        `${name} was destroyed (a tombstone); purge it to free the name`,
      );
    }
    return row;
  }

  #reply(name: AgentName): AgentReply {
    return { agent: this.#info(this.#require(name)) };
  }

  #info(row: AgentRow): AgentInfo {
    return {
      name: row.name,
      role: row.role,
      state: row.state,
      state_since: row.state_since,
      running: this.#o.driver.status(row.name).running,
      state_dir: hivePaths(this.#o.root).agentStateDir(row.name),
      started_at: row.started_at,
      starts: row.starts,
      model: row.model,
      tombstoned_at: row.tombstoned_at,
    };
  }
}
