import type { Clock, Logger } from "@hyperhive/shared";
import type { Hive } from "./bridge.js";
import { ClaudeSlot } from "./claude-slot.js";
import { Compactor } from "./compaction.js";
import { CostLedger } from "./files.js";
import { ClaudeInvoker } from "./invocation.js";
import { LiveStream } from "./live.js";
import { ModelChoice } from "./model.js";
import type { RunClaude } from "./run-claude.js";
import { AgentStateReporter } from "./state.js";
import { claudeTools } from "./tools.js";
import type { TurnLoopSettings } from "./turn-loop.js";
import { TurnRunner } from "./turn-runner.js";

/** Everything that runs claude on the agent's one session, wired to the same slot and state. */
export interface AgentSession {
  /** The state the hive sees, each event with the model. */
  state: AgentStateReporter;
  model: ModelChoice;
  /** One claude at a time: turns and compactions take it; the operator's cancel goes through it. */
  slot: ClaudeSlot;
  runner: TurnRunner;
  compactor: Compactor;
}

export interface AgentSessionOptions {
  hive: Hive;
  log: Logger;
  runClaude: RunClaude;
  settings: TurnLoopSettings;
  /** The harness's environment; claude gets a filtered copy. */
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** The loop's stop signal: every claude run is killed when it aborts. */
  signal: AbortSignal;
}

/**
 * Builds the session's parts from the agent's config: claude's command line (tools, env), the
 * model rule, the live stream and state, the turn runner and the operator's compactor.
 */
export function agentSession(o: AgentSessionOptions): AgentSession {
  const { hive, log, clock, settings: s } = o;
  const config = s.runConfig.config;
  const model = new ModelChoice({ stateDir: s.stateDir, run: s.runConfig, log });
  const state = new AgentStateReporter({ hive, clock, log, model: () => model.effective });
  const slot = new ClaudeSlot();
  const claude = new ClaudeInvoker({
    runClaude: o.runClaude,
    claudeBin: s.claudeBin,
    runDir: s.runDir,
    stateDir: s.stateDir,
    claudeHome: s.claudeHome,
    env: o.env,
    configEnv: config.env,
    tools: claudeTools(config, s.role),
    log,
  });
  const live = new LiveStream({ agent: hive.agent, clock, publish: (ev) => hive.publishLive(ev) });
  const common = { claude, live, state, slot, model, clock, log, stateDir: s.stateDir };
  return {
    state,
    model,
    slot,
    runner: new TurnRunner({
      ...common,
      hive,
      costs: new CostLedger(s.stateDir),
      signal: o.signal,
    }),
    compactor: new Compactor({ ...common, signal: o.signal }),
  };
}
