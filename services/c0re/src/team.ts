import { rmSync } from "node:fs";
import { dirname } from "node:path";
import {
  type AgentInfo,
  type AgentName,
  BROADCAST,
  type Clock,
  ErrorCode,
  HiveError,
  hivePaths,
  type Logger,
  type PurgeResponse,
} from "@hyperhive/shared";
import type { AgentControl } from "./agent-control.js";
import type { AgentCredentials } from "./agent-credentials.js";
import { agentLogFile } from "./agent-log.js";
import type { ApplyCommitApproval, Executors, SpawnApproval } from "./approval-queue.js";
import { type ContainerDriver, firstLine } from "./driver.js";
import type { Events } from "./events.js";
import type { Greeter } from "./greeter.js";
import type { ManagerClone } from "./manager-clone.js";
import { type MetaRepo, shortSha } from "./meta-repo.js";
import type { Questions } from "./questions.js";
import type { Registry } from "./registry.js";
import type { RosterKeeper } from "./roster.js";

export interface TeamOptions {
  registry: Registry;
  agents: AgentControl;
  driver: ContainerDriver;
  meta: MetaRepo;
  clone: ManagerClone;
  events: Events;
  roster: RosterKeeper;
  /** Tells the hive who joined and who left (broadcasts). */
  greeter: Greeter;
  /** A destroyed agent's open questions are cancelled; a purged one's are forgotten. */
  questions: Pick<Questions, "dropAgent" | "forgetAgent">;
  clock: Clock;
  log: Logger;
  root: string;
  /** Aborted when c0re stops: a start still running then fails quietly. */
  signal: AbortSignal;
  /** A destroyed agent's NATS credentials are revoked (its connections cut). */
  credentials?: AgentCredentials | undefined;
}

/**
 * Who is on the team: carrying out approved spawns and config changes (the approvals queue's
 * {@link Executors}), and the operator's destroy (a tombstone) and purge (the name freed). The
 * hive is told by broadcast when an agent joins (its spawn approved) or leaves (destroyed).
 */
export class Team implements Executors {
  readonly #o: TeamOptions;

  constructor(o: TeamOptions) {
    this.#o = o;
  }

  /**
   * An approved spawn: commits `agents/<name>.json` (meta's defaults), registers the agent
   * (lifecycle `created`), tells the hive, and starts it in the background; its first start
   * notice greets it.
   */
  async spawn(a: SpawnApproval): Promise<string> {
    const { registry, meta, events, roster, clock, agents, log } = this.#o;
    const { name } = a.details;
    if (registry.get(name)) throw new Error(`there is an agent named ${name} already`);
    await meta.addAgent(name);
    const now = clock.now();
    registry.register(name, "agent", now);
    events.lifecycle(name, "created", now, `approval #${a.id}`);
    roster.changed(now);
    void this.#o.greeter.tell(
      BROADCAST,
      `c0re: ${name} joined the hive (a sub-agent spawned by the manager)`,
      `c0re-joined-${name}-${a.id}`,
    );
    void this.#o.clone.sync();
    // The approval is decided once the agent exists; its start (up to the ready deadline, then
    // retried by the driver) is the lifecycle events' to tell.
    agents.start(name).catch((err: unknown) => {
      // A stop meanwhile (c0re's, or the manager's kill) also ends up here.
      if (!this.#o.signal.aborted) log.warn({ err, agent: name }, "a spawned agent did not start");
    });
    return `${name} is starting`;
  }

  /**
   * An approved config change: moves meta's `main` to the commit (a fast-forward only), brings
   * the manager's clone up to date and updates the agent (restarted with the new config).
   */
  async applyCommit(a: ApplyCommitApproval): Promise<string> {
    const { registry, meta, agents } = this.#o;
    const { agent, commit } = a.details;
    const row = registry.get(agent);
    if (!row || row.tombstoned_at !== null)
      throw new Error(`${agent} is no longer an active agent`);
    if (!(await meta.fastForward(commit))) throw new Error("meta moved on; rebase and ask again");
    await this.#o.clone.sync();
    try {
      const { agent: info } = await agents.update(agent);
      return info.running
        ? `${agent} restarted with it`
        : `${agent} is stopped; it runs with it from its next start`;
    } catch (e) {
      throw new Error(
        `meta's main is ${shortSha(commit)} now, but updating ${agent} failed: ${firstLine(e)}`,
        { cause: e },
      );
    }
  }

  /**
   * The operator's destroy: the agent is stopped for good and becomes a tombstone — off the
   * active list and the roster, its run dir removed, its state dir kept; its open questions are
   * cancelled and the hive is told. Not the manager.
   */
  async destroy(name: AgentName): Promise<{ agent: AgentInfo }> {
    const { registry, driver, roster, events, clock, agents, root } = this.#o;
    const row = registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    if (row.role === "manager") {
      throw new HiveError(ErrorCode.Forbidden, "the manager cannot be destroyed");
    }
    const now = clock.now();
    // Tombstoned first: a start asked meanwhile is refused, and the stop below is final.
    if (!registry.tombstone(name, now)) {
      throw new HiveError(ErrorCode.Conflict, `${name} is destroyed already`);
    }
    await driver.stop(name);
    // Revoked before its run dir (and the credentials file in it) goes: nothing it kept works.
    await this.#o.credentials?.revoke(name);
    rmSync(hivePaths(root).agentRunDir(name), { recursive: true, force: true });
    roster.changed(now);
    events.lifecycle(name, "destroyed", now);
    this.#o.questions.dropAgent(name);
    void this.#o.greeter.tell(
      BROADCAST,
      `c0re: ${name} left the hive; mail to it is refused`,
      `c0re-left-${name}-${now}`,
    );
    return { agent: agents.info(name) };
  }

  /**
   * The operator's purge of a tombstone (`confirm` = its name): its config leaves meta (a
   * commit), its state dir, run dir and log are deleted, its registry row and the questions it
   * asked too; the name is free.
   */
  async purge(name: AgentName, confirm: string): Promise<PurgeResponse> {
    const { registry, driver, meta, events, clock, root } = this.#o;
    if (confirm !== name) {
      throw new HiveError(ErrorCode.BadRequest, `confirm must be the agent's name (${name})`);
    }
    const row = registry.get(name);
    if (!row) throw new HiveError(ErrorCode.NotFound, `no agent named ${name}`);
    if (row.tombstoned_at === null) {
      throw new HiveError(ErrorCode.Conflict, `${name} is not destroyed; destroy it first`);
    }
    await driver.stop(name);
    await meta.removeAgent(name);
    const paths = hivePaths(root);
    const stateDir = paths.agentStateDir(name);
    rmSync(dirname(stateDir), { recursive: true, force: true });
    rmSync(agentLogFile(root, name), { force: true });
    registry.remove(name);
    this.#o.questions.forgetAgent(name);
    void this.#o.clone.sync();
    events.lifecycle(name, "purged", clock.now());
    return { name, state_dir: stateDir };
  }
}
