import { join } from "node:path";
import {
  connectNats,
  createLogger,
  type Logger,
  type NatsConnection,
  request,
  rpcs,
  subjects,
} from "@hyperhive/shared";
import { type NatsServerHandle, natsForTests, tempDir, waitUntil } from "@hyperhive/shared/testing";
import type { RunClaude } from "../src/run-claude.js";
import { type InProcessHarness, startInProcess } from "./in-process.js";
import { Observer, type ObserverOptions } from "./observer.js";
import {
  assertBuilt,
  BROKER_MAIN,
  MODEL_MAIN,
  ModelControl,
  type Proc,
  serveRoster,
  startNode,
  writeTestPrompts,
} from "./procs.js";

/** Model-server script steps: claude calls the hyperhive tool `name` with `input`, then goes on. */
export function toolCall(name: string, input: Record<string, unknown> = {}) {
  return [{ tool_use: { name: `mcp__hyperhive__${name}`, input } }, { text: "next" }];
}

/** A turn on one operator message: the message, and the tool results claude sent back in order. */
export interface ToolTurn {
  id: number;
  sentAt: number;
  results: string[];
}

/**
 * What the in-process test files run their harnesses against: a real nats-server, the broker
 * process, the model server process, an {@link Observer} of everything published, a roster.
 */
export class Bench {
  broker!: Proc;
  model!: Proc;
  ctl!: ModelControl;
  obs!: Observer;
  nc!: NatsConnection;
  readonly log: Logger;
  readonly #tmp = tempDir("hive-harness-bench-");
  readonly prompts = writeTestPrompts(join(this.#tmp.path, "prompts"));
  #nats: NatsServerHandle | undefined;
  #harnesses: InProcessHarness[] = [];

  constructor(
    /** Every agent the file runs: the roster the broker gets. */
    private readonly agents: string[],
    private readonly observe: ObserverOptions = {},
  ) {
    this.log = createLogger("harness-test", {
      level: process.env.HIVE_TEST_VERBOSE ? "debug" : "silent",
    });
  }

  get root(): string {
    return this.#tmp.path;
  }

  get natsUrl(): string {
    if (!this.#nats) throw new Error("the bench is not started");
    return this.#nats.url;
  }

  async start(): Promise<void> {
    assertBuilt();
    this.#nats = await natsForTests();
    this.nc = await connectNats({ url: this.#nats.url, name: "harness-test" });
    serveRoster(this.nc, this.agents);
    this.obs = new Observer(this.nc, this.observe);
    await this.nc.flush();
    [this.broker, this.model] = await Promise.all([
      this.startBroker(),
      startNode(MODEL_MAIN, ["--port", "0"]),
    ]);
    this.ctl = new ModelControl(String(this.model.ready.url));
  }

  /** Starts the broker (again) on the bench's database. */
  async startBroker(): Promise<Proc> {
    this.broker = await startNode(BROKER_MAIN, [], {
      env: { NATS_URL: this.natsUrl, BROKER_DB: join(this.root, "broker.sqlite") },
    });
    return this.broker;
  }

  /** A harness in this process on a test clock (stopped by {@link stopHarnesses}). */
  async harness(
    agent: string,
    o: { env?: Record<string, string>; runClaude?: RunClaude; log?: Logger } = {},
  ): Promise<InProcessHarness> {
    const h = await startInProcess({
      natsUrl: this.natsUrl,
      root: this.root,
      agent,
      prompts: this.prompts,
      modelUrl: String(this.model.ready.url),
      log: o.log ?? this.log,
      ...(o.env ? { env: o.env } : {}),
      ...(o.runClaude ? { runClaude: o.runClaude } : {}),
    });
    this.#harnesses.push(h);
    return h;
  }

  async stopHarnesses(): Promise<void> {
    for (const h of this.#harnesses.reverse()) await h.stop();
    this.#harnesses = [];
  }

  /** Mails `to` as the operator; the message's id. */
  async opSend(to: string, body: string): Promise<number> {
    return (await request(this.nc, subjects.op.send, rpcs.send, { to, body })).id;
  }

  /** Mails `agent` as the operator and waits for the turn's ack: what claude's tools answered. */
  async toolTurn(agent: string, body: string): Promise<ToolTurn> {
    await this.ctl.clearRequests();
    const sent = await request(this.nc, subjects.op.send, rpcs.send, { to: agent, body });
    await waitUntil(() => this.obs.ackedIds(agent).includes(sent.id), {
      timeoutMs: 60_000,
      what: `${agent}'s turn acked`,
    });
    const results = (await this.ctl.requests())
      .filter((r) => r.kind === "continue")
      .map((r) => r.text);
    return { id: sent.id, sentAt: sent.sent_at, results };
  }

  /** The operator's `/model` for `agent`. */
  async setModel(agent: string, model: string): Promise<void> {
    await request(this.nc, subjects.op.ctl.model(agent), rpcs.ctlModel, { model });
  }

  async stop(): Promise<void> {
    await this.stopHarnesses();
    await this.nc?.close();
    await this.ctl?.release().catch(() => 0);
    await Promise.all([this.model?.stop(), this.broker?.stop()]);
    await this.#nats?.stop();
    this.#tmp.remove();
  }
}
