import type { AgentRole, Logger, WhoAmI } from "@hyperhive/shared";
import type { Hive } from "../bridge.js";
import type { LeaseSet } from "../leases.js";
import type { SocketHandlers } from "../socket.js";
import type { ActionLog, TurnMemory } from "../turn-memory.js";
import { managerCommands } from "./manager.js";
import { questionCommands } from "./questions.js";
import { recv, recvBatch } from "./recv.js";
import { reminderCommands } from "./reminders.js";
import { send } from "./send.js";
import { wake } from "./wake.js";
import { whoami } from "./whoami.js";

/** A claude turn while it runs: a fresh object per turn, even on retries of one message. */
export interface RunningTurn {
  /** What the turn will ack when it ends. */
  readonly leases: LeaseSet;
  /** What the turns on its messages sent and asked, kept in case one comes again. */
  readonly memory: TurnMemory;
}

/** What the socket commands need from the harness. */
export interface CommandContext {
  readonly hive: Hive;
  readonly log: Logger;
  /** The manager's verbs are refused to anyone else. */
  readonly role: AgentRole;
  /** What earlier turns on each message did: shown with a message that comes again. */
  readonly actions: ActionLog;
  /** Lease asked for each message a `recv` hands out. */
  readonly leaseSeconds: number;
  /** Aborted when the harness stops: pending broker requests give up. */
  readonly signal: AbortSignal;
  /** The claude turn running now, if any. */
  currentTurn(): RunningTurn | undefined;
  /** Cuts a retry back-off short (a wake arrived, maybe after a login). */
  nudge(): void;
  /** Who the agent is, as of now (the model may have changed). */
  whoami(): WhoAmI;
}

/**
 * One handler per command of shared's `socketCommands` catalog: adding a command is adding its
 * schemas there and its handler here (the compiler refuses a catalog command without one).
 */
export function socketHandlers(ctx: CommandContext): SocketHandlers {
  return {
    send: send(ctx),
    recv: recv(ctx),
    recv_batch: recvBatch(ctx),
    wake: wake(ctx),
    whoami: whoami(ctx),
    ...questionCommands(ctx),
    ...reminderCommands(ctx),
    ...managerCommands(ctx),
  };
}
