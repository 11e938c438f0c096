import {
  type AgentInfo,
  type AgentName,
  ErrorCode,
  HiveError,
  hivePaths,
  type Logger,
} from "@hyperhive/shared";
import { type ContainerDriver, firstLine } from "./driver.js";
import type { AgentRow, Registry } from "./registry.js";

export interface AgentControlOptions {
  registry: Registry;
  driver: ContainerDriver;
  log: Logger;
  /** The hive root (for the agents' state dir paths). */
  root: string;
}

/** A reply to a lifecycle request: the agent as it is afterwards. */
export interface AgentReply {
  agent: AgentInfo;
}

/**
 * What the operator's agent requests do: list, start, stop, restart. The registry keeps what is
 * wanted (`desired`, across c0re restarts); the driver does it. Failures are typed wire errors.
 */
export class AgentControl {
  readonly #o: AgentControlOptions;

  constructor(o: AgentControlOptions) {
    this.#o = o;
  }

  /** The registry with live states, manager first. */
  list(): AgentInfo[] {
    return this.#o.registry.list().map((r) => this.#info(r));
  }

  /** Starts a registered agent that is not running; it is kept running from then on. */
  async start(name: AgentName): Promise<AgentReply> {
    const row = this.#require(name);
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
    const row = this.#require(name);
    const st = this.#o.driver.status(name);
    if (row.desired === "stopped" && !st.running && !st.restartPending) {
      throw new HiveError(ErrorCode.Conflict, `${name} is already stopped`);
    }
    this.#o.registry.setDesired(name, "stopped");
    await this.#o.driver.stop(name);
    return this.#reply(name);
  }

  /** Stops (if running) and starts an agent. */
  async restart(name: AgentName): Promise<AgentReply> {
    const row = this.#require(name);
    this.#o.registry.setDesired(name, "running");
    await this.#o.driver.stop(name);
    await this.#run(row);
    return this.#reply(name);
  }

  /**
   * Starts every agent meant to run, together. One that fails its first start is logged and
   * left to the driver, which keeps retrying it with backoff; after `signal` aborts (c0re is
   * stopping) failures are the stop's doing and go unsaid.
   */
  async startWanted(signal: AbortSignal): Promise<void> {
    const wanted = this.#o.registry.list().filter((r) => r.desired === "running");
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

  async #run(row: AgentRow): Promise<void> {
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
    const row = this.#o.registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
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
      model: null,
      tombstoned_at: null,
    };
  }
}
