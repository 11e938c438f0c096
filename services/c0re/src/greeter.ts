import {
  type AgentName,
  type Clock,
  HiveError,
  type Logger,
  type NatsConnection,
  type RetryPolicy,
  request,
  retry,
  retryPolicy,
  rpcs,
  type SendTarget,
  subjects,
} from "@hyperhive/shared";

/**
 * Delivering a start notice: 0.5 s doubling to 30 s, with no limit. The broker may be down for
 * a long time (restarting, or started after c0re); the notice is still worth delivering then.
 */
export const DEFAULT_GREET_POLICY = retryPolicy({ initialMs: 500, factor: 2, maxMs: 30_000 });

/** A notice that keeps failing is logged on its first failure, then at most this often. */
const FAILURE_LOG_EVERY_MS = 60_000;

export interface GreeterOptions {
  nc: NatsConnection;
  log: Logger;
  clock: Clock;
  /** Aborted when c0re stops: every retry ends at once. */
  signal: AbortSignal;
  /** Default {@link DEFAULT_GREET_POLICY}. */
  policy?: RetryPolicy;
}

/** How an agent came to be started, as its start notice tells it. */
export type StartKind = "first" | "manual" | "automatic";

/** The one-line notice an agent finds in its inbox after a start. */
export function startNotice(kind: StartKind, at: number, stateDir: string): string {
  const how = {
    first: "started for the first time",
    manual: "(re)started",
    automatic: "restarted after your harness exited unexpectedly",
  }[kind];
  const when = new Date(at).toISOString();
  return `c0re: you were just ${how} at ${when}; your --continue session and your notes in ${stateDir} are intact.`;
}

/**
 * Drops system messages into agents' inboxes (`hive.sys.send`, sender `system`), retrying with
 * backoff while the broker cannot take them, for as long as c0re runs: start notices (a newer
 * one for the same agent replaces one still being retried: only the latest start is news) and
 * the other things c0re tells agents (approval outcomes, restart-all reports, questions and
 * their outcomes) or the whole hive (broadcasts: an agent joined or left).
 */
export class Greeter {
  readonly #o: GreeterOptions;
  readonly #policy: RetryPolicy;
  readonly #current = new Map<AgentName, AbortController>();
  readonly #pending = new Set<Promise<boolean>>();

  constructor(o: GreeterOptions) {
    this.#o = o;
    this.#policy = retryPolicy(o.policy ?? DEFAULT_GREET_POLICY);
  }

  /**
   * Sends a start notice to `agent` in the background, replacing one still being retried. `at`
   * (the start's time) makes the client id, so a retry after a lost reply is stored once.
   */
  greet(agent: AgentName, at: number, body: string): void {
    this.#current.get(agent)?.abort();
    const mine = new AbortController();
    this.#current.set(agent, mine);
    void this.#deliver(agent, body, `c0re-start-${agent}-${at}`, mine.signal).finally(() => {
      if (this.#current.get(agent) === mine) this.#current.delete(agent);
    });
  }

  /**
   * Sends any other system message (an approval's outcome, a restart-all report, a question, a
   * broadcast to `*`) in the background; it replaces nothing. `clientId` must name this message
   * alone: a retry with it is stored once. Resolves (never rejects) with whether the broker took
   * it: false when c0re stopped first or the broker refused it for good.
   */
  tell(to: SendTarget, body: string, clientId: string): Promise<boolean> {
    return this.#deliver(to, body, clientId);
  }

  /** Sends until it lands, c0re stops or `cancel` aborts; never rejects. */
  #deliver(
    agent: SendTarget,
    body: string,
    clientId: string,
    cancel?: AbortSignal,
  ): Promise<boolean> {
    const { nc, log, clock } = this.#o;
    const signal = cancel ? AbortSignal.any([this.#o.signal, cancel]) : this.#o.signal;
    let loggedAt: number | undefined;
    const send = () =>
      request(
        nc,
        subjects.sys.send,
        rpcs.send,
        { to: agent, body, client_id: clientId },
        { signal },
      );
    const p = retry(send, {
      policy: this.#policy,
      clock,
      signal,
      retryable: (e) => HiveError.is(e) && e.retryable,
      onRetry: (err, attempt, retryInMs) => {
        const now = clock.now();
        if (loggedAt !== undefined && now - loggedAt < FAILURE_LOG_EVERY_MS) return;
        loggedAt = now;
        log.warn({ agent, attempt, retryInMs, err }, "system message not delivered yet; retrying");
      },
    })
      .then(
        () => {
          if (loggedAt !== undefined) log.info({ agent }, "system message delivered after retries");
          return true;
        },
        (err: unknown) => {
          if (!signal.aborted) log.error({ agent, err }, "could not send a system message");
          return false;
        },
      )
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
    return p;
  }

  /** Resolves once every notice in flight has ended (at once after the stop signal). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}
