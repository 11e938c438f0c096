import { join } from "node:path";
import {
  type AgentState,
  DEFAULT_RECV_WAIT_SECONDS,
  type InboxMessage,
  type Logger,
  MAX_BODY_BYTES,
  OPERATOR,
  type RecvResponse,
  type SendResponse,
  type SocketRequest,
  type TurnResultKind,
  type TurnStats,
  toWireError,
} from "@hyperhive/shared";
import type { LiveEventBody } from "./bridge.js";
import { buildClaudeArgs, buildClaudeEnv, displaySender, wakeBody, wakePrompt } from "./claude.js";
import { CostLedger, hasSession, readModel, takeNewSession } from "./files.js";
import type { ClaudeExit, ClaudeRun, RunClaude } from "./run-claude.js";
import { type Outcome, parseStreamLine, resultKind, StatsAccumulator } from "./stream.js";

/** What the turn loop needs from NATS (the {@link NatsBridge} in production). */
export interface Hive {
  readonly agent: string;
  send(to: string, body: string, inReplyTo?: number): Promise<SendResponse>;
  recv(waitSeconds: number, leaseSeconds: number): Promise<RecvResponse>;
  ack(id: number): Promise<boolean>;
  extend(ids: number[], leaseSeconds: number): Promise<number[]>;
  /** Ends the leases a previous incarnation of this agent still holds. */
  release(): Promise<number[]>;
  publishState(state: AgentState, since: number, note?: string): void;
  publishLive(ev: LiveEventBody): void;
  publishStats(stats: TurnStats): void;
}

export interface TurnLoopSettings {
  stateDir: string;
  runDir: string;
  claudeBin: string;
  /** HOME given to claude. */
  claudeHome: string;
  defaultModel: string;
  leaseSeconds: number;
  /** First pause before retrying a not-logged-in turn; doubles up to {@link MAX_LOGIN_RETRY_MS}. */
  loginRetrySeconds: number;
  /** Turns tried on a message whose turns keep failing, before it is acked and the operator told. */
  turnAttempts: number;
  /** First pause before retrying a failed turn; doubles with each failure. */
  turnRetrySeconds: number;
  /** recv long-poll wait; default 30. */
  recvWaitSeconds?: number;
}

export interface TurnLoopOptions {
  hive: Hive;
  log: Logger;
  runClaude: RunClaude;
  settings: TurnLoopSettings;
  /** The harness's environment; claude gets a filtered copy. */
  env?: NodeJS.ProcessEnv;
  clock?: { now(): number };
}

const MAX_LOGIN_RETRY_MS = 300_000;

/** Messages leased in one turn, kept alive until the turn ends. */
class LeaseSet {
  readonly ids = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hive: Hive,
    private readonly leaseSeconds: number,
    private readonly log: Logger,
  ) {}

  add(id: number): void {
    this.ids.add(id);
  }

  /** Extends every lease each lease/3 seconds while the turn (or a login wait) lasts. */
  startExtending(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => {
        this.hive.extend([...this.ids], this.leaseSeconds).then(
          (extended) => {
            if (extended.length < this.ids.size) {
              this.log.warn({ ids: [...this.ids], extended }, "some leases could not be extended");
            }
          },
          (e: unknown) => this.log.warn({ err: toWireError(e) }, "lease extend failed"),
        );
      },
      (this.leaseSeconds * 1000) / 3,
    );
  }

  stopExtending(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Acks every message; keeps going past failures (an unacked one is merely delivered again). */
  async ackAll(): Promise<void> {
    this.stopExtending();
    for (const id of this.ids) {
      try {
        await this.hive.ack(id);
      } catch (e) {
        this.log.error({ id, err: toWireError(e) }, "ack failed; the message will come again");
      }
    }
  }
}

/** The message a turn is about, held until its turn ends (or across login retries). */
interface Held {
  msg: InboxMessage;
  pending: number;
  leases: LeaseSet;
  /** Turns on this message that ended "Not logged in". */
  loginFailures: number;
  /** Turns on this message that ended in another error (or crashed). */
  turnFailures: number;
  /** Why the last turn on it failed, for the retry's wake prompt. */
  lastError?: string;
  /** Pause before the next try; set when a turn on it failed. */
  retryInMs: number;
}

interface Invocation {
  acc: StatsAccumulator;
  exit: ClaudeExit;
  outcome: Outcome;
}

type TurnEnd = { kind: "ok" | "needs_login" | "aborted" } | { kind: "error"; note: string };

/**
 * The agent's turn loop: idle on a recv long-poll, run one claude turn per message, stream it
 * live, publish stats, ack what the turn leased. Also answers the unix socket's commands.
 */
export class TurnLoop {
  private readonly hive: Hive;
  private readonly log: Logger;
  private readonly runClaude: RunClaude;
  private readonly s: TurnLoopSettings;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private readonly costs: CostLedger;

  private state: AgentState | undefined;
  private held: Held | null = null;
  /** The claude turn running now: a fresh object per turn, even on retries of one message. */
  private turn: { leases: LeaseSet } | undefined;
  private run: ClaudeRun | undefined;
  private turnCount = 0;
  private stopping = false;
  /** Aborted by stop(). Waits listen on it and unlisten when done (a promise would keep them all). */
  private readonly stopAc = new AbortController();
  private nudgeSignal: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;

  constructor(opts: TurnLoopOptions) {
    this.hive = opts.hive;
    this.log = opts.log;
    this.runClaude = opts.runClaude;
    this.s = opts.settings;
    this.env = opts.env ?? process.env;
    this.now = opts.clock?.now ?? Date.now;
    this.costs = new CostLedger(opts.settings.stateDir);
  }

  /** Current state (for tests and logs). */
  get currentState(): AgentState | undefined {
    return this.state;
  }

  start(): void {
    this.loop ??= this.main().catch((e: unknown) => {
      this.log.fatal({ err: e }, "turn loop failed");
      throw e;
    });
  }

  /** Cuts a login back-off short (a `wake` arrived, maybe after a login). */
  nudge(): void {
    this.nudgeSignal?.();
  }

  /**
   * Stops: kills a running claude (its turn is not acked, so the message comes again), stops
   * extending leases, waits for the loop to return. Idempotent.
   */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.stopping = true;
      this.stopAc.abort();
      this.run?.kill();
      await this.loop?.catch(() => {});
      this.held?.leases.stopExtending();
    })();
    return this.stopPromise;
  }

  private setState(state: AgentState, note?: string): void {
    if (this.state === state && note === undefined) return;
    this.state = state;
    this.hive.publishState(state, this.now(), note);
    this.log.info({ state, note }, "state");
  }

  /** Resolves after `ms`, on stop, or (if nudgeable) on {@link nudge}. */
  private pause(ms: number, nudgeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.stopAc.signal;
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      if (nudgeable) this.nudgeSignal = done;
      if (signal.aborted) done();
      else signal.addEventListener("abort", done);
    }).finally(() => {
      if (nudgeable) this.nudgeSignal = undefined;
    });
  }

  /** Settles like `p`, or with undefined as soon as the loop is stopped. */
  private unlessStopped<T>(p: Promise<T>): Promise<T | undefined> {
    const signal = this.stopAc.signal;
    p.catch(() => {});
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onStop = () => resolve(undefined);
      signal.addEventListener("abort", onStop, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onStop));
    });
  }

  private async main(): Promise<void> {
    // A harness that died mid-turn (or while its recv was in flight) left leases behind: this
    // is the only harness of this agent, so hand them back now rather than after they expire.
    try {
      const released = await this.hive.release();
      if (released.length > 0) this.log.info({ released }, "released a previous run's leases");
    } catch (e) {
      this.log.warn({ err: toWireError(e) }, "could not release old leases; they will expire");
    }
    let failures = 0;
    while (!this.stopping) {
      let held = this.held;
      if (held) {
        // The last turn on it failed (not logged in, or an error): keep the message leased, wait,
        // try the same turn again. A wake cuts the wait short (e.g. after a login).
        await this.pause(held.retryInMs, true);
        if (this.stopping) break;
      } else {
        this.setState("idle");
        let r: RecvResponse | undefined;
        try {
          const recv = this.hive.recv(
            this.s.recvWaitSeconds ?? DEFAULT_RECV_WAIT_SECONDS,
            this.s.leaseSeconds,
          );
          r = await this.unlessStopped(recv);
          failures = 0;
        } catch (e) {
          failures++;
          this.log.warn({ err: toWireError(e) }, "recv failed; retrying");
          await this.pause(Math.min(250 * 2 ** failures, 10_000), false);
          continue;
        }
        if (this.stopping || !r?.message) continue;
        const leases = new LeaseSet(this.hive, this.s.leaseSeconds, this.log);
        leases.add(r.message.id);
        leases.startExtending();
        held = {
          msg: r.message,
          pending: r.pending,
          leases,
          loginFailures: 0,
          turnFailures: 0,
          retryInMs: 0,
        };
        this.held = held;
      }

      this.turn = { leases: held.leases };
      const end = await this.runTurn(held).finally(() => {
        this.turn = undefined;
      });
      if (end.kind === "aborted") break;
      if (end.kind === "needs_login") {
        held.loginFailures++;
        const base = this.s.loginRetrySeconds * 1000;
        held.retryInMs = Math.min(base * 2 ** (held.loginFailures - 1), MAX_LOGIN_RETRY_MS);
        continue;
      }
      if (end.kind === "error") {
        held.turnFailures++;
        held.lastError = end.note;
        if (held.turnFailures < this.s.turnAttempts) {
          held.retryInMs = this.s.turnRetrySeconds * 1000 * 2 ** (held.turnFailures - 1);
          continue;
        }
      }
      this.held = null;
      // The notice is durable before the message is let go of: a crash in between means one
      // more try and maybe a second notice, never a silent drop.
      if (end.kind === "error") await this.giveUp(held, end.note);
      await held.leases.ackAll();
    }
  }

  /**
   * Every try on a message failed: it is about to be acked (retrying forever would block the
   * inbox), so tell the operator which message is dropped and why rather than losing it silently.
   */
  private async giveUp(held: Held, note: string): Promise<void> {
    const shown = displaySender(this.hive.agent, held.msg);
    const body =
      `[hyperhive] ${this.hive.agent} gave up on message #${held.msg.id} from ${shown.from} ` +
      `after ${held.turnFailures} failed turns. Last error: ${note}`;
    this.log.error({ id: held.msg.id, attempts: held.turnFailures, note }, "gave up on message");
    try {
      await this.hive.send(OPERATOR, truncateBytes(body, MAX_BODY_BYTES));
    } catch (e) {
      this.log.error(
        { err: toWireError(e) },
        "could not tell the operator about a dropped message",
      );
    }
  }

  /** One turn on the held message: claude, maybe a compaction and one retry. */
  private async runTurn(held: Held): Promise<TurnEnd> {
    const startedAt = this.now();
    const turnId = `${this.hive.agent}-${startedAt}-${++this.turnCount}`;
    let seq = 0;
    const live = (ev: Record<string, unknown>) =>
      this.hive.publishLive({ ...ev, turn_id: turnId, seq: seq++ } as LiveEventBody);

    const model = readModel(this.s.stateDir, this.s.defaultModel);
    const shown = displaySender(this.hive.agent, held.msg);
    live({
      kind: "turn_start",
      message: {
        id: held.msg.id,
        from: shown.from,
        body: shown.body,
        redelivered: held.msg.redelivered,
      },
      pending: held.pending,
      model,
    });
    this.setState("thinking");
    const prompt = wakePrompt({
      ...shown,
      pending: held.pending,
      redelivered: held.msg.redelivered,
      ...(held.lastError === undefined
        ? {}
        : { retry: { attempt: held.turnFailures + 1, lastError: held.lastError } }),
    });

    const fresh = takeNewSession(this.s.stateDir);
    const cont = !fresh && hasSession(join(this.s.stateDir, ".claude"));
    let inv = await this.invoke(prompt, model, cont, live, "thinking");
    let compacted = false;
    if (inv.outcome === "prompt_too_long" && !this.stopping) {
      this.setState("compacting");
      const c = await this.invoke("/compact", model, true, live, "compacting");
      this.log.info({ outcome: c.outcome }, "compacted session");
      compacted = true;
      if (!this.stopping) {
        this.setState("thinking");
        inv = await this.invoke(prompt, model, true, live, "thinking");
      }
    }

    if (this.stopping) {
      live({ kind: "turn_end", ok: false, result: "crashed", note: "harness stopping" });
      return { kind: "aborted" };
    }

    const kind = resultKind(inv.outcome, compacted);
    const note = this.endNote(inv);
    this.hive.publishStats(this.stats(inv, { turnId, held, model, startedAt, kind }));
    live({
      kind: "turn_end",
      ok: inv.outcome === "ok",
      result: kind,
      ...(note === undefined ? {} : { note }),
    });
    if (inv.outcome === "needs_login") {
      this.setState("needs-login", note ?? "Not logged in");
      return { kind: "needs_login" };
    }
    return inv.outcome === "ok" ? { kind: "ok" } : { kind: "error", note: note ?? "turn failed" };
  }

  private endNote(inv: Invocation): string | undefined {
    if (inv.outcome === "ok") return undefined;
    if (inv.exit.spawnError) return inv.exit.spawnError;
    const text = inv.acc.result?.text;
    if (text) return text.slice(0, 500);
    if (inv.outcome === "needs_login") return "Not logged in";
    return `claude exited with ${inv.exit.exitCode ?? inv.exit.signal ?? "?"} and no result`;
  }

  private stats(
    inv: Invocation,
    t: { turnId: string; held: Held; model: string; startedAt: number; kind: TurnResultKind },
  ): TurnStats {
    const r = inv.acc.result;
    const endedAt = this.now();
    return {
      agent: this.hive.agent,
      turn_id: t.turnId,
      message_id: t.held.msg.id,
      wake_from: displaySender(this.hive.agent, t.held.msg).from,
      model: t.model,
      started_at: t.startedAt,
      ended_at: endedAt,
      duration_ms: r?.durationMs ?? endedAt - t.startedAt,
      num_turns: r?.numTurns ?? 0,
      total_cost_usd: r ? this.costs.turnCost(inv.acc.sessionId, r.totalCostUsd) : 0,
      input_tokens: r?.inputTokens ?? 0,
      output_tokens: r?.outputTokens ?? 0,
      cache_read_input_tokens: r?.cacheReadInputTokens ?? 0,
      cache_creation_input_tokens: r?.cacheCreationInputTokens ?? 0,
      context_window: r?.contextWindow ?? null,
      tool_calls: inv.acc.toolCalls,
      tool_call_breakdown: { ...inv.acc.breakdown },
      result: t.kind,
      is_error: r?.isError ?? inv.outcome !== "ok",
    };
  }

  /** Runs claude once and folds its stream into an accumulator. */
  private async invoke(
    prompt: string,
    model: string,
    cont: boolean,
    live: (ev: Record<string, unknown>) => void,
    state: AgentState,
  ): Promise<Invocation> {
    const acc = new StatsAccumulator();
    const args = buildClaudeArgs({ model, continueSession: cont, runDir: this.s.runDir });
    this.log.debug({ args }, "running claude");
    const run = this.runClaude({
      bin: this.s.claudeBin,
      args,
      env: buildClaudeEnv(this.env, { stateDir: this.s.stateDir, home: this.s.claudeHome }),
      cwd: this.s.stateDir,
      stdin: prompt,
      onStdoutLine: (line) => {
        const ev = parseStreamLine(line);
        if (ev) {
          acc.feed(ev);
          live({ kind: "stream", event: ev });
          // claude reports its own compactions (e.g. of a resumed session) as system/status.
          if (ev.type === "system" && ev.subtype === "status") {
            this.setState(ev.status === "compacting" ? "compacting" : state);
          }
        } else if (line.trim().length > 0) {
          live({ kind: "note", text: line });
        }
      },
      onStderrLine: (line) => {
        if (line.trim().length > 0) live({ kind: "note", text: line });
      },
    });
    this.run = run;
    if (this.stopping) run.kill();
    const exit = await run.done;
    this.run = undefined;
    const outcome = exit.spawnError ? "crashed" : acc.outcome(exit.exitCode);
    this.log.info(
      { outcome, exitCode: exit.exitCode, signal: exit.signal, tools: acc.toolCalls },
      "claude finished",
    );
    return { acc, exit, outcome };
  }

  /** Answers one command from the unix socket. */
  async handleSocket(req: SocketRequest, signal?: AbortSignal): Promise<unknown> {
    switch (req.cmd) {
      case "send":
        return this.hive.send(req.to, req.body, req.in_reply_to);
      case "recv": {
        // The turn that asked: mail leased for it belongs to that turn and no other.
        const turn = this.turn;
        const r = await this.hive.recv(
          req.wait_seconds ?? DEFAULT_RECV_WAIT_SECONDS,
          this.s.leaseSeconds,
        );
        const m = r.message;
        if (m) {
          if (signal?.aborted || turn !== this.turn) {
            // Its caller or its turn is gone (claude died mid-call), so nobody reads it. Acking
            // it (or acking it with a later turn) would lose it: leave the lease to run out and
            // the message comes again, marked redelivered.
            this.log.warn({ id: m.id }, "recv answered after its caller left; it will come again");
          } else if (turn) {
            // Mid-turn mail is acked with the turn that read it.
            turn.leases.add(m.id);
          } else {
            // Outside a turn, once handed out.
            await this.hive.ack(m.id);
          }
        }
        return {
          message: m
            ? {
                id: m.id,
                ...displaySender(this.hive.agent, m),
                sent_at: m.sent_at,
                in_reply_to: m.in_reply_to,
                redelivered: m.redelivered,
              }
            : null,
          pending: r.pending,
        };
      }
      case "wake": {
        const sent = await this.hive.send(this.hive.agent, wakeBody(req.from, req.body));
        this.nudge();
        return { id: sent.id };
      }
    }
  }
}

/** Cuts text to at most `max` UTF-8 bytes (on a character boundary). */
function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  let out = text.slice(0, max);
  while (Buffer.byteLength(`${out}…`, "utf8") > max) out = out.slice(0, -1);
  return `${out}…`;
}
