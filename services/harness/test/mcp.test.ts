import assert from "node:assert/strict";
import { join } from "node:path";
import { type AgentRole, type Approval, ErrorCode, HiveError } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, it } from "vitest";
import { createMcpServer } from "../src/mcp.js";
import type { SocketHandlers } from "../src/socket.js";
import { socketRequest } from "../src/socket-client.js";
import { SocketServer } from "../src/socket-server.js";
import { hyperhiveTools } from "../src/tools.js";
import { agentInfo, pendingFrom } from "./c0re-answers.js";
import { type Seen, standInHandlers } from "./handlers.js";

/** A harness socket whose handlers the test writes; every command it saw, with its params. */
interface Harness {
  seen: Seen[];
}

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** A pending approval as c0re queues it. */
const pending = pendingFrom("manager");

describe("MCP server", () => {
  const t = tempDir("hive-mcp-");
  let cleanups: (() => Promise<unknown>)[] = [];
  let n = 0;

  afterEach(async () => {
    for (const f of cleanups.reverse()) await f();
    cleanups = [];
  });

  /**
   * The MCP server as claude's child runs it, talking over a real socket to a stand-in harness;
   * its client is connected in-process.
   */
  async function connected(
    handlers: Partial<SocketHandlers>,
    role: AgentRole = "agent",
  ): Promise<{ client: Client; harness: Harness }> {
    const harness: Harness = { seen: [] };
    const path = join(t.path, `h${++n}.sock`);
    const server = new SocketServer({ path, handlers: standInHandlers(harness.seen, handlers) });
    await server.start();
    cleanups.push(() => server.stop());
    const [a, b] = InMemoryTransport.createLinkedPair();
    await createMcpServer((cmd, params) => socketRequest(path, cmd, params), role).connect(a);
    const client = new Client({ name: "test", version: "0" });
    await client.connect(b);
    cleanups.push(() => client.close());
    return { client, harness };
  }

  async function call(
    client: Client,
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ text: string; isError: boolean }> {
    const r = CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
    const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
    return { text, isError: r.isError === true };
  }

  it("a sub-agent's server lists send, recv and whoami, and none of the manager's verbs", async () => {
    const { client } = await connected({});
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), [...hyperhiveTools("agent")].sort());
    assert.deepEqual(tools.map((x) => x.name).sort(), ["recv", "send", "whoami"]);
    const send = tools.find((x) => x.name === "send")!;
    assert.deepEqual(send.inputSchema.required?.sort(), ["body", "to"]);
    const kill = CallToolResultSchema.parse(
      await client.callTool({ name: "kill", arguments: { name: "alice" } }),
    );
    assert.equal(kill.isError, true);
  });

  it("the manager's server lists its verbs too, with their input schemas", async () => {
    const { client } = await connected({}, "manager");
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), [...hyperhiveTools("manager")].sort());
    const req = (name: string) => tools.find((x) => x.name === name)?.inputSchema.required;
    assert.deepEqual(req("request_spawn"), ["name"]);
    assert.deepEqual(req("kill"), ["name"]);
    assert.deepEqual(req("request_apply_commit")?.sort(), ["agent", "commit_ref"]);
    assert.equal(req("whoami"), undefined);
  });

  it("whoami shows what the harness says", async () => {
    const me = {
      name: "boss",
      role: "manager",
      model: "sonnet",
      version: "0.1.0",
      rev: "abc",
      started_at: 5,
      state_dir: "/s",
    } as const;
    const { client, harness } = await connected({ whoami: async () => me });
    const r = await call(client, "whoami", {});
    assert.equal(r.isError, false);
    assert.deepEqual(JSON.parse(r.text), me);
    assert.deepEqual(harness.seen, [{ cmd: "whoami", params: {} }]);
  });

  it("the manager's verbs go to the harness socket and read back in plain words", async () => {
    const spawn: Approval = {
      ...pending,
      id: 3,
      kind: "spawn",
      summary: "spawn alice",
      details: { name: "alice" },
    };
    const apply: Approval = {
      ...pending,
      id: 4,
      kind: "apply_commit",
      summary: "config of alice: model haiku -> sonnet",
      details: { agent: "alice", commit: SHA, base: SHA, diff: "-a\n+b\n" },
    };
    const { client, harness } = await connected(
      {
        request_spawn: async () => ({ approval: spawn }),
        kill: async ({ name }) => ({ agent: agentInfo(name, false) }),
        start: async ({ name }) => ({ agent: agentInfo(name, true) }),
        restart: async ({ name }) => ({ agent: agentInfo(name, true) }),
        update: async ({ name }) => ({ agent: agentInfo(name, true) }),
        request_apply_commit: async () => ({ approval: apply }),
      },
      "manager",
    );
    const texts = [
      await call(client, "request_spawn", { name: "alice" }),
      await call(client, "kill", { name: "alice" }),
      await call(client, "start", { name: "alice" }),
      await call(client, "restart", { name: "alice" }),
      await call(client, "update", { name: "alice" }),
      await call(client, "request_apply_commit", { agent: "alice", commit_ref: "HEAD" }),
    ];
    assert.ok(texts.every((x) => !x.isError));
    assert.deepEqual(
      texts.map((x) => x.text),
      [
        "approval #3 queued: spawn alice (pending the operator's decision; the outcome will arrive in your inbox)",
        "alice stopped: not running, state offline",
        "alice started: running, state idle, model haiku",
        "alice restarted: running, state idle, model haiku",
        "alice updated with its current config and restarted: running, state idle, model haiku",
        "approval #4 queued: config of alice (commit 0123456): config of alice: model haiku -> sonnet " +
          "(pending the operator's decision; the outcome will arrive in your inbox)",
      ],
    );
    assert.deepEqual(harness.seen, [
      { cmd: "request_spawn", params: { name: "alice" } },
      { cmd: "kill", params: { name: "alice" } },
      { cmd: "start", params: { name: "alice" } },
      { cmd: "restart", params: { name: "alice" } },
      { cmd: "update", params: { name: "alice" } },
      { cmd: "request_apply_commit", params: { agent: "alice", commit_ref: "HEAD" } },
    ]);
  });

  it("c0re's refusals reach claude as tool errors with their code; bad arguments never leave", async () => {
    const { client, harness } = await connected(
      {
        request_spawn: async () => {
          throw new HiveError(ErrorCode.Conflict, "alice is taken");
        },
        kill: async () => {
          throw new HiveError(ErrorCode.Forbidden, "the manager's own lifecycle is the operator's");
        },
      },
      "manager",
    );
    const spawn = await call(client, "request_spawn", { name: "alice" });
    assert.deepEqual(spawn, { text: "error (conflict): alice is taken", isError: true });
    const kill = await call(client, "kill", { name: "manager" });
    assert.equal(kill.isError, true);
    assert.match(kill.text, /^error \(forbidden\): the manager's own lifecycle/);
    const bad = await call(client, "request_apply_commit", { agent: "alice", commit_ref: "-x" });
    assert.equal(bad.isError, true);
    assert.equal(harness.seen.length, 2, "the bad ref was refused before the socket");
  });

  it("send and recv go to the harness socket as commands", async () => {
    const { client, harness } = await connected({
      send: async () => ({ id: 12, duplicate: false, sent_at: 1 }),
      recv: async () => ({
        message: {
          id: 13,
          from: "bob",
          body: "ping",
          sent_at: 1,
          in_reply_to: null,
          reply_to: null,
          redelivered: false,
        },
        pending: 1,
      }),
    });
    const sent = await call(client, "send", { to: "operator", body: "hi" });
    assert.equal(sent.isError, false);
    assert.match(sent.text, /sent to operator \(message 12\)/);
    const got = await call(client, "recv", { wait_seconds: 500 });
    assert.equal(got.text, "from: bob\n\nping\n\n(1 more pending — call recv to drain)");
    assert.deepEqual(harness.seen, [
      { cmd: "send", params: { to: "operator", body: "hi" } },
      { cmd: "recv", params: { wait_seconds: 180 } },
    ]);
  });

  it("the broker's refusal of a large body reaches claude as a tool error", async () => {
    const { client } = await connected({
      send: async () => {
        throw new HiveError(
          ErrorCode.BodyTooLarge,
          "body is 5000 bytes, over the 4096-byte limit: write it to a file in your state dir and send the path",
        );
      },
    });
    const r = await call(client, "send", { to: "operator", body: "x".repeat(5000) });
    assert.equal(r.isError, true);
    assert.match(r.text, /body_too_large.*write it to a file/);
  });

  it("arguments the socket would refuse come back as tool errors, and nothing is sent", async () => {
    const { client, harness } = await connected({
      send: async () => ({ id: 1, duplicate: false, sent_at: 1 }),
    });
    const badName = await call(client, "send", { to: "Not A Name!", body: "hi" });
    assert.equal(badName.isError, true);
    assert.match(badName.text, /to/);
    const blank = await call(client, "send", { to: "bob", body: "   " });
    assert.equal(blank.isError, true);
    assert.match(blank.text, /empty or only whitespace/);
    assert.deepEqual(harness.seen, []);
  });

  it("an empty inbox says so", async () => {
    const { client } = await connected({ recv: async () => ({ message: null, pending: 0 }) });
    assert.equal((await call(client, "recv", {})).text, "(no messages)");
  });
});
