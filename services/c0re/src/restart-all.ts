import {
  type AgentName,
  type Clock,
  ErrorCode,
  HiveError,
  type Logger,
  MANAGER,
  type RestartAllResponse,
} from "@hyperhive/shared";
import type { AgentControl } from "./agent-control.js";
import type { Greeter } from "./greeter.js";
import type { Registry } from "./registry.js";
import type { AgentStates } from "./states.js";

/** How long restart-all waits for the restarted manager to be idle again, by default. */
export const DEFAULT_RESTART_ALL_IDLE_MS = 120_000;

export interface RestartAllOptions {
  registry: Registry;
  agents: AgentControl;
  states: AgentStates;
  greeter: Greeter;
  clock: Clock;
  log: Logger;
  /** Aborted when c0re stops: a wait for the manager ends at once. */
  signal: AbortSignal;
  /** Default {@link DEFAULT_RESTART_ALL_IDLE_MS}. */
  idleTimeoutMs?: number;
}

/**
 * The operator's restart of the whole hive, the manager first: restart it, wait until it has
 * been through its first turn since (the restart notice: a thinking state, then idle; at most
 * `idleTimeoutMs` on the clock), then restart the other active agents that are meant to run,
 * together, and tell the manager who was restarted, in order. One at a time.
 */
export class RestartAll {
  readonly #o: RestartAllOptions;
  #running = false;

  constructor(o: RestartAllOptions) {
    this.#o = o;
  }

  async run(): Promise<RestartAllResponse> {
    if (this.#running) throw new HiveError(ErrorCode.Conflict, "a restart-all is running already");
    this.#running = true;
    try {
      return await this.#run();
    } finally {
      this.#running = false;
    }
  }

  async #run(): Promise<RestartAllResponse> {
    const { registry, agents, greeter, clock, log } = this.#o;
    let idle: Promise<boolean> = Promise.resolve(false);
    // Watching from the moment the old run is gone: only the new harness's states count.
    await agents.restart(MANAGER, {
      stopped: () => {
        idle = this.#idleAfterTurn(MANAGER);
      },
    });
    const managerIdle = await idle;
    if (!managerIdle) log.warn("restart-all: the manager was not idle in time; going on");
    const others = registry
      .active()
      .filter((r) => r.role !== "manager" && r.desired === "running")
      .map((r) => r.name);
    const results = await Promise.allSettled(others.map((n) => agents.restart(n)));
    results.forEach((r, i) => {
      if (r.status === "rejected") log.error({ agent: others[i], err: r.reason }, "restart failed");
    });
    const restarted = [MANAGER, ...others];
    const late = managerIdle ? "" : " (you were not idle again in time; the others went ahead)";
    void greeter.tell(
      MANAGER,
      `c0re: restart-all restarted, in this order: ${restarted.join(", ")}${late}.`,
      `c0re-restart-all-${clock.now()}`,
    );
    return { restarted, manager_idle: managerIdle };
  }

  /** Resolves true at the agent's first idle after a thinking (or compacting) state, false at the deadline. */
  #idleAfterTurn(agent: AgentName): Promise<boolean> {
    const { states, clock, signal } = this.#o;
    return new Promise((resolve) => {
      let turned = false;
      const finish = (idle: boolean): void => {
        off();
        cancel();
        signal.removeEventListener("abort", onAbort);
        resolve(idle);
      };
      const onAbort = (): void => finish(false);
      const off = states.onChange((ev) => {
        if (ev.agent !== agent) return;
        if (ev.state === "thinking" || ev.state === "compacting") turned = true;
        else if (ev.state === "idle" && turned) finish(true);
      });
      const cancel = clock.schedule(this.#o.idleTimeoutMs ?? DEFAULT_RESTART_ALL_IDLE_MS, () =>
        finish(false),
      );
      if (signal.aborted) finish(false);
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
