import type { AgentName, AgentRole } from "@hyperhive/shared";

/** What a driver needs to know to run one agent. */
export interface AgentSpec {
  name: AgentName;
  role: AgentRole;
}

/** What a driver reports about one agent. */
export interface AgentRuntimeStatus {
  /** Whether the agent's harness is up: from the start of a launch until it exits or is stopped. */
  running: boolean;
  /** True while an automatic restart is scheduled after an unexpected exit or a failed start. */
  restartPending: boolean;
}

/** Facts a driver reports so c0re can publish lifecycle events and greet restarted agents. */
export type DriverEvent =
  | {
      kind: "started";
      agent: AgentName;
      /** Unix ms. */
      at: number;
      /** True when the driver restarted the agent on its own after an unexpected exit. */
      automatic: boolean;
    }
  | { kind: "stopped"; agent: AgentName; at: number }
  | {
      kind: "exited";
      agent: AgentName;
      at: number;
      /** How it ended (`code 1`, `signal SIGKILL`) or why its start failed (first line). */
      detail: string;
    }
  | {
      kind: "restarting";
      agent: AgentName;
      at: number;
      /** Milliseconds until the next start attempt. */
      delayMs: number;
    };

export type DriverEventListener = (event: DriverEvent) => void;

/**
 * How c0re runs agents. One implementation per isolation technology (process now; bwrap and
 * nixos later, each a launcher under the same {@link Supervisor}); c0re itself never touches
 * processes or containers directly.
 */
export interface ContainerDriver {
  /** Short name of the implementation, e.g. "process": c0re's ready line says it. */
  readonly kind: string;
  /** Prepares whatever the agent needs (dirs, container definition). Idempotent. */
  create(spec: AgentSpec): Promise<void>;
  /**
   * Starts a created agent and resolves once its harness reports ready; rejects with a
   * {@link HarnessStartError} (leaving nothing running) if it does not within the driver's
   * deadline. Either way the agent is wanted from then on: unexpected exits and failed starts
   * are retried with backoff until {@link stop}.
   */
  start(spec: AgentSpec): Promise<void>;
  /**
   * Stops the agent (and everything it spawned), cancels a pending restart and ends a start
   * still waiting for the ready line. Idempotent.
   */
  stop(name: AgentName): Promise<void>;
  status(name: AgentName): AgentRuntimeStatus;
  /** Stops every agent this driver runs. */
  stopAll(): Promise<void>;
  /**
   * Makes a tree c0re wrote inside `name`'s state dir the agent's own (under the bwrap driver
   * agents have their own uids; the process driver runs them as c0re, so it does nothing).
   */
  adopt(name: AgentName, path: string): void;
  /** Subscribes to driver events; returns the unsubscribe function. */
  onEvent(listener: DriverEventListener): () => void;
}

/** A start attempt failed: the harness exited or did not report ready in time, or a stop ended it. */
export class HarnessStartError extends Error {
  override readonly name = "HarnessStartError";
}

/** The first line of an error's message: enough for an event detail or a reply. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}
