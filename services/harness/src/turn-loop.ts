import { setMaxListeners } from "node:events";
import {
  type AgentRole,
  type AgentState,
  type Clock,
  DEFAULT_RECV_WAIT_SECONDS,
  Lifecycle,
  type LifecycleState,
  type Logger,
  OPERATOR,
  type RecvResponse,
  type RetryPolicy,
  retryDelay,
  sleep,
  systemClock,
  toWireError,
  type WhoAmI,
} from "@hyperhive/shared";
import type { Hive } from "./bridge.js";
import { type RunningTurn, socketHandlers } from "./commands/mod.js";
import { type Controls, operatorControls } from "./controls.js";
import { HeldMessage, type HeldRetry } from "./held.js";
import { LeaseSet } from "./leases.js";
import type { RunClaude } from "./run-claude.js";
import type { RunConfig } from "./run-config.js";
import { type AgentSession, agentSession } from "./session.js";
import type { SocketHandlers } from "./socket.js";
import type { AgentStateReporter } from "./state.js";
import { ActionLog, TurnMemory } from "./turn-memory.js";
import { harnessVersion } from "./version.js";

/** How long a stopping harness waits for the broker to take its release (best effort: a stop must
 * stay well within c0re's grace, and the next run releases anyway). */
const STOP_RELEASE_MS = 500;

/** The loop's three back-offs, as data (`config.ts` builds them from the environment). */
export interface TurnLoopRetry extends HeldRetry {
  /** The idle recv failed (broker or NATS away). */
  recv: RetryPolicy;
}

/** What the loop is configured with (a `HarnessConfig` is one). */
export interface TurnLoopSettings {
  role: AgentRole;
  stateDir: string;
  runDir: string;
  claudeBin: string;
  /** HOME given to claude. */
  claudeHome: string;
  /** The agent's config (c0re's `agent-config.json`, or the defaults), read at boot. */
  runConfig: RunConfig;
  /** The hyperhive source revision, for `whoami`; null when unknown. */
  hyperhiveRev: string | null;
  /** The hive's shared dir, for `whoami`; null (or absent) outside a hive. */
  sharedDir?: string | null;
  leaseSeconds: number;
  retry: TurnLoopRetry;
  /** recv long-poll wait; default 30. */
  recvWaitSeconds?: number;
}

/** The loop's dependencies, one options object. */
export interface TurnLoopOptions {
  hive: Hive;
  log: Logger;
  runClaude: RunClaude;
  settings: TurnLoopSettings;
  /** The harness's environment; claude gets a filtered copy. */
  env?: NodeJS.ProcessEnv;
  /** Every pause, lease extension and timestamp of the loop; default the system clock. */
  clock?: Clock;
}

/**
 * The agent's turn loop: idle on a recv long-poll, one claude turn per message (its session's
 * `TurnRunner`), the turn's leases acked when it ends; a failed turn keeps its message and
 * is tried again after a pause. Its life is shared's {@link Lifecycle}: stopping aborts every
 * wait, broker request and claude run at once, and nothing unfinished is acked.
 */
export class TurnLoop {
  readonly #o: TurnLoopOptions;
  readonly #clock: Clock;
  readonly #life = new Lifecycle("turn loop");
  readonly #session: AgentSession;
  readonly #state: AgentStateReporter;
  readonly #actions: ActionLog;
  readonly #startedAt: number;
  #held: HeldMessage | null = null;
  #turn: RunningTurn | undefined;
  #recvFailures = 0;
  #nudge: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: TurnLoopOptions) {
    this.#o = opts;
    // Every waiting broker request listens on the stop signal: the loop's own, and one per socket
    // command in flight (up to the socket's 64 connections), more than the default warning's 10.
    setMaxListeners(128, this.#life.signal);
    const clock = opts.clock ?? systemClock;
    this.#clock = clock;
    this.#startedAt = clock.now();
    this.#session = agentSession({
      hive: opts.hive,
      log: opts.log,
      runClaude: opts.runClaude,
      settings: opts.settings,
      env: opts.env ?? process.env,
      clock,
      signal: this.#life.signal,
    });
    this.#state = this.#session.state;
    this.#actions = new ActionLog({ stateDir: opts.settings.stateDir, log: opts.log });
  }

  /** Where the loop is in its life. */
  get lifecycle(): LifecycleState {
    return this.#life.state;
  }

  /** The agent state last published (for tests and logs). */
  get currentState(): AgentState | undefined {
    return this.#state.current;
  }

  /** Starts the loop; it runs until {@link stop}. A loop that fails throws (the harness dies). */
  start(): Promise<void> {
    return this.#life.start(() => {
      this.#loop = this.#main().catch((e: unknown) => {
        this.#o.log.fatal({ err: e }, "turn loop failed");
        throw e;
      });
    });
  }

  /**
   * Stops: a running claude is killed, waits and broker requests give up, leases are no longer
   * extended; what was not acked comes again (at-least-once). Last, the broker is told this run
   * is over (`release`), so its recv still parked there cannot lease the next message — a
   * broadcast sent while the agent is stopped waits for its next start, not for a lease to run
   * out. Idempotent.
   */
  stop(): Promise<void> {
    return this.#life.stop(async () => {
      await this.#loop?.catch(() => {});
      await this.#session.compactor.settled();
      this.#held?.leases.stopExtending();
      try {
        await this.#o.hive.release(AbortSignal.timeout(STOP_RELEASE_MS));
      } catch (e) {
        this.#o.log.warn({ err: toWireError(e) }, "could not release at stop; the next run will");
      }
    });
  }

  /** The socket's commands, answered for this loop's agent. */
  socketHandlers(): SocketHandlers {
    const s = this.#o.settings;
    return socketHandlers({
      hive: this.#o.hive,
      log: this.#o.log,
      role: s.role,
      actions: this.#actions,
      leaseSeconds: s.leaseSeconds,
      signal: this.#life.signal,
      currentTurn: () => this.#turn,
      nudge: () => this.#nudge?.(),
      whoami: () => this.whoami(),
    });
  }

  /** The operator's controls (`hive.op.ctl.<me>.*`), acting on this loop. */
  controls(): Controls {
    return operatorControls({
      ...this.#session,
      stateDir: this.#o.settings.stateDir,
      log: this.#o.log,
    });
  }

  /** Who the agent is, from the harness itself. */
  whoami(): WhoAmI {
    const s = this.#o.settings;
    return {
      name: this.#o.hive.agent,
      role: s.role,
      model: this.#session.model.effective,
      version: harnessVersion(),
      rev: s.hyperhiveRev,
      started_at: this.#startedAt,
      state_dir: s.stateDir,
      shared_dir: s.sharedDir ?? null,
    };
  }

  async #main(): Promise<void> {
    await this.#releaseOld();
    const signal = this.#life.signal;
    while (!signal.aborted) {
      let held = this.#held;
      if (held) {
        await this.#pause(held.retryInMs);
      } else {
        held = await this.#receive();
        if (!held) continue;
        this.#held = held;
      }
      if (signal.aborted) break;

      this.#turn = { leases: held.leases, memory: held.memory };
      const end = await this.#session.runner.run(held.turnInput()).finally(() => {
        this.#turn = undefined;
      });
      if (end.kind === "aborted") break;
      if (held.tryAgain(end)) continue;

      this.#held = null;
      // The notice is durable before the message is let go of: a crash in between means one
      // more try and maybe a second notice, never a silent drop.
      if (end.kind === "error") await this.#giveUp(held, end.note);
      await held.leases.ackAll();
    }
  }

  /**
   * A harness that died mid-turn (or while its recv was in flight) left leases behind: this is
   * the only harness of this agent, so hand them back now rather than after they expire.
   */
  async #releaseOld(): Promise<void> {
    try {
      const released = await this.#o.hive.release(this.#life.signal);
      if (released.length > 0) this.#o.log.info({ released }, "released a previous run's leases");
    } catch (e) {
      this.#o.log.warn({ err: toWireError(e) }, "could not release old leases; they will expire");
    }
  }

  /** Idle: long-polls for the next message; null when none came (or recv failed). */
  async #receive(): Promise<HeldMessage | null> {
    const { hive, log, settings: s } = this.#o;
    const signal = this.#life.signal;
    // An operator's compaction may hold the session while the loop waits for mail: it says
    // `compacting` until it is done, and then `idle` itself.
    if (!this.#session.slot.busy) this.#state.set("idle");
    let r: RecvResponse;
    try {
      r = await hive.recv(s.recvWaitSeconds ?? DEFAULT_RECV_WAIT_SECONDS, s.leaseSeconds, signal);
      this.#recvFailures = 0;
    } catch (e) {
      if (signal.aborted) return null;
      const ms = retryDelay(s.retry.recv, ++this.#recvFailures);
      log.warn({ err: toWireError(e), retryInMs: ms }, "recv failed; retrying");
      await sleep(this.#clock, ms, signal);
      return null;
    }
    // Leased to a harness that is stopping: the next one releases it at start-up.
    if (!r.message || signal.aborted) return null;
    const leases = new LeaseSet({
      hive,
      leaseSeconds: s.leaseSeconds,
      clock: this.#clock,
      log,
      signal,
    });
    leases.add(r.message.id);
    leases.startExtending();
    return new HeldMessage({
      msg: r.message,
      pending: r.pending,
      leases,
      memory: new TurnMemory(this.#actions, r.message),
      actions: this.#actions,
      retry: s.retry,
    });
  }

  /** Waits before another try on the held message; a wake (maybe after a login) cuts it short. */
  async #pause(ms: number): Promise<void> {
    const stop = this.#life.signal;
    if (stop.aborted) return;
    const cut = new AbortController();
    const onStop = (): void => cut.abort();
    stop.addEventListener("abort", onStop, { once: true });
    this.#nudge = () => cut.abort();
    try {
      await sleep(this.#clock, ms, cut.signal);
    } finally {
      this.#nudge = undefined;
      stop.removeEventListener("abort", onStop);
    }
  }

  /**
   * Every try on a message failed and it is about to be acked: the operator hears which one and
   * why, rather than it being lost silently.
   */
  async #giveUp(held: HeldMessage, note: string): Promise<void> {
    const { hive, log } = this.#o;
    log.error({ id: held.msg.id, note }, "gave up on message");
    try {
      await hive.send(
        { to: OPERATOR, body: held.giveUpNotice(hive.agent, note) },
        this.#life.signal,
      );
    } catch (e) {
      log.error({ err: toWireError(e) }, "could not tell the operator about a dropped message");
    }
  }
}
