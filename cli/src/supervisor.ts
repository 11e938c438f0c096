import {
  type Cancel,
  type Clock,
  describeExit,
  type ExitInfo,
  mayRetry,
  type RetryPolicy,
  retryDelay,
  type ServiceName,
} from "@hyperhive/shared";

/** One run of a service, once it has said ready. */
export interface Launch {
  /** Its processes (the service first; a guard's child after it), for the leftovers record. */
  readonly pids: readonly number[];
  /** Settles when the service's process exits, however. */
  readonly exited: Promise<ExitInfo>;
  /**
   * Stops it (graceful, then forced) and resolves once nothing of it is left; after an exit on
   * its own, kills whatever it left in its process group. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** A service the supervisor keeps running. */
export interface ServiceSpec {
  readonly name: ServiceName;
  /**
   * Starts one run and resolves once it is ready. Rejects if it does not come up (then nothing
   * of it is left), at once when `signal` aborts (the hive is stopping). A rejection with
   * `permanent: true` is not worth another try (web's port is taken).
   */
  start(signal: AbortSignal): Promise<Launch>;
}

/** A start failure that no restart can fix. */
export function isPermanent(e: unknown): boolean {
  return e instanceof Error && "permanent" in e && e.permanent === true;
}

/** What the supervisor saw, for the terminal, the service events and the leftovers record. */
export type SupervisorEvent =
  | { kind: "started"; service: ServiceName; starts: number; pids: readonly number[] }
  | { kind: "exited"; service: ServiceName; starts: number; detail: string; ranMs: number }
  | { kind: "start_failed"; service: ServiceName; starts: number; detail: string }
  | { kind: "restarting"; service: ServiceName; starts: number; delayMs: number; failures: number }
  | { kind: "gave_up"; service: ServiceName; starts: number; detail: string };

export interface SupervisorOptions {
  clock: Clock;
  /**
   * Backoff between restarts, by failures in a row (`retryDelay`); `maxAttempts` fast failures
   * in a row (`mayRetry`) and the supervisor gives up on the service.
   */
  policy: RetryPolicy;
  /** A run that lasted this long was healthy: its exit starts a new count of failures. */
  healthyAfterMs: number;
  onEvent(e: SupervisorEvent): void;
  /** Called once, with the reason, when a service is given up on; the hive should stop. */
  onGiveUp(service: ServiceName, why: string): void;
}

/** Where one service is in its supervised life. */
export type ServiceState =
  | { kind: "starting" }
  | { kind: "running"; since: number; launch: Launch }
  /** It exited on its own; what it left is being cleaned up before the restart is planned. */
  | { kind: "exited" }
  | { kind: "backoff"; until: number; cancel: Cancel }
  | { kind: "stopping" }
  | { kind: "stopped" }
  | { kind: "gave_up"; why: string };

interface Entry {
  readonly spec: ServiceSpec;
  state: ServiceState;
  /** Runs started, the first included. */
  starts: number;
  /** Fast failures (exits or failed starts) since the last healthy run. */
  failures: number;
  /** The start or clean-up in flight, so stop can wait for it. */
  busy?: Promise<unknown>;
}

/**
 * Keeps services running, after s6 and systemd: each service has a state; an exit nobody asked
 * for is followed by a restart after a backoff that grows with the failures in a row; a run that
 * lasted `healthyAfterMs` resets that count; `policy.maxAttempts` fast failures in a row, or a
 * start failure marked permanent, and it gives up (`onGiveUp`). `stop` stops the services in the
 * reverse order of `add`. Time comes from the clock, so tests run the backoff on a TestClock.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #entries: Entry[] = [];
  readonly #abort = new AbortController();
  #stopping: Promise<void> | undefined;

  constructor(o: SupervisorOptions) {
    this.#o = o;
  }

  /** The state of a service added before, or undefined. */
  state(service: ServiceName): ServiceState | undefined {
    return this.#entries.find((e) => e.spec.name === service)?.state;
  }

  /**
   * Starts a service and supervises it from then on. Its first start is not retried: a service
   * that cannot come up once is a broken setup, so this rejects and the caller stops the hive.
   */
  async add(spec: ServiceSpec): Promise<Launch> {
    if (this.#abort.signal.aborted) throw new Error(`${spec.name} not started: stopping`);
    const entry: Entry = { spec, state: { kind: "starting" }, starts: 0, failures: 0 };
    this.#entries.push(entry);
    try {
      return await this.#start(entry);
    } catch (e) {
      if (entry.state.kind === "starting") entry.state = { kind: "stopped" };
      throw e;
    }
  }

  /** Stops every service, newest first; cancels pending restarts. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#abort.abort();
      for (const entry of [...this.#entries].reverse()) {
        const s = entry.state;
        if (s.kind === "backoff") s.cancel();
        entry.state = { kind: "stopping" };
        await entry.busy?.catch(() => {});
        if (s.kind === "running") await s.launch.stop();
        entry.state = { kind: "stopped" };
      }
    })();
    return this.#stopping;
  }

  async #start(entry: Entry): Promise<Launch> {
    entry.state = { kind: "starting" };
    entry.starts++;
    const starting = entry.spec.start(this.#abort.signal);
    entry.busy = starting;
    const launch = await starting;
    if (this.#abort.signal.aborted) {
      await launch.stop();
      throw new Error(`${entry.spec.name} stopped: stopping`);
    }
    entry.state = { kind: "running", since: this.#o.clock.now(), launch };
    this.#emit({
      kind: "started",
      service: entry.spec.name,
      starts: entry.starts,
      pids: launch.pids,
    });
    void launch.exited.then((exit) => this.#onExit(entry, launch, exit));
    return launch;
  }

  async #onExit(entry: Entry, launch: Launch, exit: ExitInfo): Promise<void> {
    const s = entry.state;
    if (this.#abort.signal.aborted || s.kind !== "running" || s.launch !== launch) return;
    const ranMs = this.#o.clock.now() - s.since;
    entry.failures = ranMs >= this.#o.healthyAfterMs ? 1 : entry.failures + 1;
    const detail = describeExit(exit);
    this.#emit({ kind: "exited", service: entry.spec.name, starts: entry.starts, detail, ranMs });
    entry.state = { kind: "exited" };
    // Whatever it left in its process group goes before the next run starts.
    const cleanup = launch.stop();
    entry.busy = cleanup;
    await cleanup;
    if (this.#abort.signal.aborted) return;
    this.#retryOrGiveUp(entry, `exited (${detail})`);
  }

  #retryOrGiveUp(entry: Entry, last: string): void {
    if (!mayRetry(this.#o.policy, entry.failures)) {
      const n = entry.failures;
      this.#giveUp(entry, `${n} fast failure${n === 1 ? "" : "s"} in a row, the last: ${last}`);
      return;
    }
    const delayMs = retryDelay(this.#o.policy, entry.failures);
    this.#emit({
      kind: "restarting",
      service: entry.spec.name,
      starts: entry.starts,
      delayMs,
      failures: entry.failures,
    });
    const cancel = this.#o.clock.schedule(delayMs, () => void this.#restart(entry));
    entry.state = { kind: "backoff", until: this.#o.clock.now() + delayMs, cancel };
  }

  async #restart(entry: Entry): Promise<void> {
    if (this.#abort.signal.aborted) return;
    try {
      await this.#start(entry);
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      entry.failures++;
      const detail = e instanceof Error ? e.message : String(e);
      this.#emit({ kind: "start_failed", service: entry.spec.name, starts: entry.starts, detail });
      if (isPermanent(e)) this.#giveUp(entry, detail);
      else this.#retryOrGiveUp(entry, detail);
    }
  }

  #giveUp(entry: Entry, why: string): void {
    entry.state = { kind: "gave_up", why };
    this.#emit({ kind: "gave_up", service: entry.spec.name, starts: entry.starts, detail: why });
    this.#o.onGiveUp(entry.spec.name, why);
  }

  #emit(e: SupervisorEvent): void {
    this.#o.onEvent(e);
  }
}
