import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type AgentName,
  type AnswerRequest,
  type AskRequest,
  BroadcastAnnouncement,
  type Db,
  decodeJson,
  ErrorReply,
  encodeJson,
  type NatsConnection,
  type OperatorAnswerRequest,
  type OperatorThreadsRequest,
  openDatabase,
  type Question,
  QuestionEvent,
  request,
  rpcs,
  SendRequest,
  type ServiceProcess,
  type StoredMessage,
  startService,
  subjects,
} from "@hyperhive/shared";
import { natsForTests, TestClock, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { C0re } from "../src/c0re.js";
import { Registry } from "../src/registry.js";
import { migrations } from "../src/schema.js";
import { BIN, collect } from "./hive.js";
import { driverRig, silentLog } from "./rig.js";

/** What the test's own connection has seen, in order of arrival. */
export interface QuestionsSeen {
  /** `hive.events.questions`. */
  questions: QuestionEvent[];
  /** `hive.broadcast`. */
  broadcasts: BroadcastAnnouncement[];
  /** Every request c0re made on `hive.sys.send` (a tap: the broker answers them, not the test). */
  sysSends: SendRequest[];
}

/**
 * A hive for the question tests: a real nats-server and broker (its built entry point), and c0re
 * in this process on a {@link TestClock} over a real sqlite file, so deadlines and retries pass
 * when the test moves the clock. Agents run as the driver rig's stand-in process (not a harness):
 * questions need their inboxes, not their turns. The sub-agents are registered before c0re first
 * starts and are meant to stay stopped; only the manager runs.
 */
export interface QuestionsHive {
  root: string;
  /** The test's connection: it speaks as the operator and as any agent (no permissions here). */
  nc: NatsConnection;
  clock: TestClock;
  /** c0re's sqlite file, as c0re sees it. */
  db: Db;
  seen: QuestionsSeen;
  /** The c0re running now (a new one after {@link QuestionsHive.startC0re}). */
  c0re(): C0re;
  startC0re(): Promise<void>;
  stopC0re(): Promise<void>;
  startBroker(): Promise<void>;
  stopBroker(): Promise<void>;
  /** Messages to `agent` (broadcasts too), oldest first, as the broker's history has them. */
  mail(agent: AgentName): Promise<StoredMessage[]>;
  /** Waits until `agent` has a message from system whose body matches `re`. */
  waitMail(agent: AgentName, re: RegExp): Promise<StoredMessage>;
  /** The events of question #id, as published, in order. */
  eventsOf(id: number): Question[];
  /** Waits for the event that closed `q`, and returns the question as it said. */
  closed(q: Question): Promise<Question>;
  /** The client ids c0re sent question #id's messages with (after a {@link sync}). */
  sent(id: number): Promise<string[]>;
  /**
   * A round trip through c0re: whatever c0re published before (events, the messages it sent) has
   * reached the test's connection when it resolves (one connection's messages arrive in order).
   */
  sync(): Promise<void>;
  /** Sends `payload` (a string as it is, else encoded as JSON) and returns the reply, error or not. */
  raw(subject: string, payload: string | object): Promise<unknown>;
  stop(): Promise<void>;
}

/** The sub-agents of a {@link QuestionsHive}, registered before c0re first starts. */
const AGENTS = ["alice", "bob", "carol"];

/** Starts a {@link QuestionsHive} for one test file. */
export async function startQuestionsHive(prefix: string): Promise<QuestionsHive> {
  // Not a skip: a run without the built broker is a broken run, said in one line.
  if (!existsSync(BIN.broker)) throw new Error(`${BIN.broker} is missing: run npm run build first`);
  const server = await natsForTests();
  const nc = await connect({ servers: server.url });
  const tmp = tempDir(prefix);
  const root = tmp.path;
  const clock = new TestClock();
  const seen: QuestionsSeen = { questions: [], broadcasts: [], sysSends: [] };
  collect(nc, subjects.events.questions, QuestionEvent, seen.questions);
  collect(nc, subjects.broadcast, BroadcastAnnouncement, seen.broadcasts);
  collect(nc, subjects.sys.send, SendRequest, seen.sysSends);
  await nc.flush();
  const db = openDatabase(join(root, "db/c0re.sqlite"), migrations);
  const registry = new Registry(db);
  for (const name of AGENTS) {
    registry.register(name, "agent", clock.now());
    registry.setDesired(name, "stopped");
  }

  let broker: ServiceProcess | undefined;
  let c0re: { core: C0re; nc: NatsConnection } | undefined;
  const startBroker = async () => {
    broker = await startService({
      name: "broker",
      command: process.execPath,
      args: [BIN.broker],
      env: { ...process.env, NATS_URL: server.url, HIVE_ROOT: root, HIVE_LOG_LEVEL: "warn" },
      readyTimeoutMs: 30_000,
      keepOutput: 20_000,
    });
  };
  const stopBroker = async () => {
    await broker?.stop(5000);
    broker = undefined;
  };
  const startC0re = async () => {
    const c0reNc = await connect({ servers: server.url });
    // The rig's driver, on this hive's clock: each c0re gets a driver of its own, as in life.
    const { driver } = driverRig(root, { clock });
    const core = new C0re({ nc: c0reNc, db, driver, log: silentLog, root, clock });
    c0re = { core, nc: c0reNc };
    await core.start();
  };
  const stopC0re = async () => {
    if (!c0re) return;
    await c0re.core.stop();
    await c0re.nc.close();
    c0re = undefined;
  };
  const mail = async (agent: AgentName) =>
    (await request(nc, subjects.op.history, rpcs.opHistory, { agent, limit: 500 })).messages
      .filter((m) => m.to === agent || m.to === "*")
      .reverse();
  const eventsOf = (id: number) =>
    seen.questions.filter((e) => e.question.id === id).map((e) => e.question);
  const hive: QuestionsHive = {
    root,
    nc,
    clock,
    db,
    seen,
    c0re() {
      if (!c0re) throw new Error("c0re is not running");
      return c0re.core;
    },
    startC0re,
    stopC0re,
    startBroker,
    stopBroker,
    mail,
    waitMail: (agent, re) =>
      waitUntil(
        async () => (await mail(agent)).find((m) => m.from === "system" && re.test(m.body)),
        { what: `a system message to ${agent} matching ${re}` },
      ),
    eventsOf,
    closed: (q) =>
      waitUntil(() => eventsOf(q.id).find((e) => e.state !== "open"), {
        what: `question #${q.id} closed`,
      }),
    async sent(id) {
      await hive.sync();
      return seen.sysSends
        .map((s) => s.client_id ?? "")
        .filter((c) => c.startsWith(`c0re-question-${id}-`));
    },
    async sync() {
      await request(nc, subjects.op.questions, rpcs.opQuestions, {});
    },
    async raw(subject, payload) {
      const data = typeof payload === "string" ? payload : encodeJson(payload);
      return decodeJson((await nc.request(subject, data, { timeout: 5000 })).data);
    },
    async stop() {
      await stopC0re();
      await stopBroker();
      await nc.close();
      await server.stop();
      db.close();
      tmp.remove();
    },
  };
  try {
    await startBroker();
    await startC0re();
    return hive;
  } catch (e) {
    await hive.stop();
    throw e;
  }
}

/** The error code of a raw reply, or undefined when it is no error. */
export function errorCode(reply: unknown): string | undefined {
  return ErrorReply.safeParse(reply).data?.error.code;
}

/**
 * A describe block's {@link QuestionsHive}: started before its tests, stopped after them. `hive`
 * is valid inside tests; `call` may be taken at once (it finds the hive when called).
 */
export function useQuestionsHive(prefix: string): {
  readonly hive: QuestionsHive;
  call: QuestionCalls;
} {
  let current: QuestionsHive | undefined;
  beforeAll(async () => {
    current = await startQuestionsHive(prefix);
  });
  afterAll(async () => {
    await current?.stop();
  });
  const hive = (): QuestionsHive => {
    if (!current) throw new Error("the questions hive is started in beforeAll");
    return current;
  };
  return {
    get hive() {
      return hive();
    },
    call: questionCalls(() => hive().nc),
  };
}

export type QuestionCalls = ReturnType<typeof questionCalls>;

/** The question requests, typed: an agent's (`as(name)`) and the operator's, on `conn()`. */
export function questionCalls(conn: () => NatsConnection) {
  const a = subjects.agent;
  const op = subjects.op;
  return {
    as: (me: AgentName) => ({
      ask: async (req: AskRequest) => (await request(conn(), a.ask(me), rpcs.ask, req)).question,
      answer: async (req: AnswerRequest) =>
        (await request(conn(), a.answer(me), rpcs.answer, req)).question,
      asks: async (all?: boolean) =>
        (await request(conn(), a.asks(me), rpcs.myAsks, all === undefined ? {} : { all }))
          .questions,
      cancel: async (id: number) =>
        (await request(conn(), a.cancelAsk(me), rpcs.cancelAsk, { id })).question,
      threads: async () => (await request(conn(), a.threads(me), rpcs.threads, {})).threads,
    }),
    op: {
      questions: async (all?: boolean) =>
        (await request(conn(), op.questions, rpcs.opQuestions, all === undefined ? {} : { all }))
          .questions,
      answer: async (req: OperatorAnswerRequest) =>
        (await request(conn(), op.answer, rpcs.opAnswer, req)).question,
      cancel: async (id: number) =>
        (await request(conn(), op.cancelQuestion, rpcs.opCancelQuestion, { id })).question,
      threads: async (req: OperatorThreadsRequest = {}) =>
        (await request(conn(), op.threads, rpcs.opThreads, req)).threads,
    },
  };
}
