import type { AgentName, AgentRole } from "@hyperhive/shared";

/** What a driver needs to know to run one agent. */
export interface AgentSpec {
  name: AgentName;
  role: AgentRole;
}

/** What a driver reports about one agent's container or process. */
export interface AgentRuntimeStatus {
  /** Whether the agent's harness is up (from spawn until it exits). */
  running: boolean;
  /** Process id of the harness (process driver), when running. */
  pid?: number;
  /** Unix ms when the current run started, when running. */
  since?: number;
  /** True while an automatic restart is scheduled after an unexpected exit. */
  restartPending: boolean;
}

/** Facts a driver reports so c0re can publish lifecycle events and greet restarted agents. */
export type DriverEvent =
  | {
      kind: "started";
      agent: AgentName;
      at: number;
      /** True when the driver restarted the agent on its own after an unexpected exit. */
      automatic: boolean;
    }
  | { kind: "stopped"; agent: AgentName; at: number }
  | {
      kind: "exited";
      agent: AgentName;
      at: number;
      /** `code 1` or `signal SIGKILL`. */
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
 * How c0re runs agents. One implementation per isolation technology (process, bwrap, nixos);
 * c0re itself never touches processes or containers directly.
 */
export interface ContainerDriver {
  /** Short name of the implementation, e.g. "process". */
  readonly kind: string;
  /** Prepares whatever the agent needs (dirs, container definition). Idempotent. */
  create(spec: AgentSpec): Promise<void>;
  /**
   * Starts the agent and resolves once its harness reports ready; rejects (leaving nothing
   * running) if it does not within the driver's deadline. While started, the driver keeps the
   * agent up: unexpected exits are restarted with backoff until {@link stop}.
   */
  start(spec: AgentSpec): Promise<void>;
  /** Stops the agent (and everything it spawned) and cancels any pending restart. Idempotent. */
  stop(name: AgentName): Promise<void>;
  /** Stops the agent and removes its container/runtime files. The state dir is kept. */
  destroy(name: AgentName): Promise<void>;
  /** Applies a changed spec to an existing agent (takes effect on its next start). */
  update(spec: AgentSpec): Promise<void>;
  status(name: AgentName): AgentRuntimeStatus;
  /** The last `lines` lines of the agent's log. */
  logs(name: AgentName, lines?: number): Promise<string>;
  /** Stops every agent this driver runs. */
  stopAll(): Promise<void>;
  /** Subscribes to driver events; returns the unsubscribe function. */
  onEvent(listener: DriverEventListener): () => void;
}

/** The first line of an error's message: enough for an event detail or a reply. */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
}
