import { writeFileSync } from "node:fs";
import {
  type AgentInfo,
  type Approval,
  connectNats,
  hivePaths,
  type NatsConnection,
  type RpcSpec,
  type Service,
  serve,
} from "@hyperhive/shared";
import type { z } from "zod";

/**
 * Services that stand in for c0re and a harness on a real nats-server, each answering with the
 * real wire schemas (a request that does not match its schema gets the same bad_request the real
 * service would give), and recording every request they were asked.
 */

/** One request a stand-in got: the subject and the payload, as its schema parsed it. */
export interface Call {
  subject: string;
  payload: unknown;
}

/** What a stand-in answers to one request (a thrown HiveError is replied as the wire error). */
export type Answer<Req extends z.ZodType, Res extends z.ZodType> = (
  req: z.infer<Req>,
) => z.input<Res> | Promise<z.input<Res>>;

export class StandIns {
  readonly calls: Call[] = [];
  readonly #nc: NatsConnection;
  readonly #services: Service[] = [];

  private constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  static async connect(url: string): Promise<StandIns> {
    return new StandIns(await connectNats({ url, name: "test-stand-ins" }));
  }

  /** Answers `subject` with `answer`, recording each request. */
  on<Req extends z.ZodType, Res extends z.ZodType>(
    subject: string,
    spec: RpcSpec<Req, Res>,
    answer: Answer<Req, Res>,
  ): void {
    this.#services.push(
      serve(this.#nc, subject, spec, (req) => {
        this.calls.push({ subject, payload: req });
        return answer(req);
      }),
    );
  }

  /** The calls since `from` (an index into `calls`). */
  since(from: number): Call[] {
    return this.calls.slice(from);
  }

  async flush(): Promise<void> {
    await this.#nc.flush();
  }

  async close(): Promise<void> {
    await Promise.all(this.#services.map((s) => s.stop()));
    await this.#nc.close();
  }
}

/** A hive.json at `root` naming the NATS at `url`, owned by this (live) test process. */
export function pretendHive(root: string, url: string): void {
  const runtime = {
    pid: process.pid,
    nats_url: url,
    web_url: "http://127.0.0.1:1",
    token: "t".repeat(32),
    started_at: Date.now(),
  };
  writeFileSync(hivePaths(root).runtimeFile, JSON.stringify(runtime), { mode: 0o600 });
}

/** An AgentInfo with plain defaults. */
export function agentInfo(name: string, o: Partial<AgentInfo> = {}): AgentInfo {
  return {
    name,
    role: name === "manager" ? "manager" : "agent",
    state: "idle",
    state_since: Date.now() - 90_000,
    running: true,
    state_dir: `/hive/agents/${name}/state`,
    started_at: Date.now() - 120_000,
    starts: 1,
    model: "haiku",
    tombstoned_at: null,
    ...o,
  };
}

const SHA_A = "a".repeat(40);
const SHA_B = `b${"0".repeat(39)}`;

/** The diff of approval #3 (alice's model, haiku -> sonnet). */
export const DIFF = [
  "diff --git a/agents/alice.json b/agents/alice.json",
  "--- a/agents/alice.json",
  "+++ b/agents/alice.json",
  "@@ -1,3 +1,3 @@",
  " {",
  '-  "model": "haiku"',
  '+  "model": "sonnet"',
  " }",
  "",
].join("\n");

/** The queue: #3 a config change and #2 a spawn, pending; #1 a denied spawn. Newest first. */
export function sampleApprovals(now: number): Approval[] {
  const base = { submitter: "manager", decided_at: null, decided_by: null, note: null } as const;
  return [
    {
      ...base,
      id: 3,
      kind: "apply_commit",
      summary: "config of alice: model haiku -> sonnet",
      created_at: now - 60_000,
      state: "pending",
      details: { agent: "alice", commit: SHA_B, base: SHA_A, diff: DIFF },
    },
    {
      ...base,
      id: 2,
      kind: "spawn",
      summary: "spawn carol",
      created_at: now - 180_000,
      state: "pending",
      details: { name: "carol" },
    },
    {
      ...base,
      id: 1,
      kind: "spawn",
      summary: "spawn dave",
      created_at: now - 7_200_000,
      state: "denied",
      decided_at: now - 3_600_000,
      decided_by: "operator",
      note: "one is enough",
      details: { name: "dave" },
    },
  ];
}
