import type { ClaudeStreamEvent, Logger } from "@hyperhive/shared";
import { buildClaudeArgs, buildClaudeEnv } from "./claude.js";
import type { ClaudeExit, RunClaude } from "./run-claude.js";
import { type Outcome, parseStreamLine, StatsAccumulator } from "./stream.js";
import type { ClaudeTools } from "./tools.js";

/** How claude is run for this agent: the same for every invocation. */
export interface ClaudeInvokerOptions {
  runClaude: RunClaude;
  claudeBin: string;
  /** Holds the generated claude files. */
  runDir: string;
  /** claude's cwd and config dir. */
  stateDir: string;
  /** HOME given to claude. */
  claudeHome: string;
  /** The harness's environment; claude gets a filtered copy. */
  env: NodeJS.ProcessEnv;
  /** The agent config's `env`, added to claude's. */
  configEnv: Record<string, string>;
  /** `--tools` and `--allowedTools`, from the agent's config and flavour. */
  tools: ClaudeTools;
  log: Logger;
}

/** One invocation: what to say, and where its output goes as it comes. */
export interface ClaudeCall {
  prompt: string;
  model: string;
  continueSession: boolean;
  /** Kills claude when aborted (the harness is stopping, or the operator cancelled). */
  signal: AbortSignal;
  /** Each stream-json event, in order. */
  onEvent(ev: ClaudeStreamEvent): void;
  /** A stderr line, or a stdout line that is not stream-json. */
  onNote(text: string): void;
}

/** A finished invocation: its stream folded into stats, how the process ended, what it came to. */
export interface Invocation {
  acc: StatsAccumulator;
  exit: ClaudeExit;
  outcome: Outcome;
}

/** Runs claude once per call, with the exact command line and a clean environment. */
export class ClaudeInvoker {
  constructor(private readonly o: ClaudeInvokerOptions) {}

  async invoke(call: ClaudeCall): Promise<Invocation> {
    const { o } = this;
    const acc = new StatsAccumulator();
    const args = buildClaudeArgs({
      model: call.model,
      continueSession: call.continueSession,
      runDir: o.runDir,
      tools: o.tools,
    });
    o.log.debug({ args }, "running claude");
    const run = o.runClaude({
      bin: o.claudeBin,
      args,
      env: buildClaudeEnv(o.env, {
        stateDir: o.stateDir,
        home: o.claudeHome,
        configEnv: o.configEnv,
      }),
      cwd: o.stateDir,
      stdin: call.prompt,
      onStdoutLine: (line) => {
        const ev = parseStreamLine(line);
        if (ev) {
          acc.feed(ev);
          call.onEvent(ev);
        } else if (line.trim().length > 0) call.onNote(line);
      },
      onStderrLine: (line) => {
        if (line.trim().length > 0) call.onNote(line);
      },
    });
    const kill = (): void => run.kill();
    if (call.signal.aborted) kill();
    else call.signal.addEventListener("abort", kill, { once: true });
    const exit = await run.done.finally(() => call.signal.removeEventListener("abort", kill));
    const outcome = exit.spawnError ? "crashed" : acc.outcome(exit.exitCode);
    o.log.info(
      { outcome, exitCode: exit.exitCode, signal: exit.signal, tools: acc.toolCalls },
      "claude finished",
    );
    return { acc, exit, outcome };
  }
}

/** Why an invocation did not end well, in a line (undefined when it did). */
export function endNote(inv: Invocation): string | undefined {
  if (inv.outcome === "ok") return undefined;
  if (inv.exit.spawnError) return inv.exit.spawnError;
  const text = inv.acc.result?.text;
  if (text) return text.slice(0, 500);
  if (inv.outcome === "needs_login") return "Not logged in";
  return `claude exited with ${inv.exit.exitCode ?? inv.exit.signal ?? "?"} and no result`;
}
