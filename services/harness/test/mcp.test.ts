import assert from "node:assert/strict";
import { join } from "node:path";
import { ErrorCode, HiveError } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, it } from "vitest";
import { createMcpServer } from "../src/mcp.js";
import type { SocketHandlers } from "../src/socket.js";
import { socketRequest } from "../src/socket-client.js";
import { SocketServer } from "../src/socket-server.js";

/** A harness socket whose handlers the test writes; every command it saw, with its params. */
interface Harness {
  seen: { cmd: string; params: unknown }[];
}

const notHere = async (): Promise<never> => {
  throw new HiveError(ErrorCode.Internal, "not used in this test");
};

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
  ): Promise<{ client: Client; harness: Harness }> {
    const harness: Harness = { seen: [] };
    const path = join(t.path, `h${++n}.sock`);
    const server = new SocketServer({
      path,
      handlers: {
        send: async (params, call) => {
          harness.seen.push({ cmd: "send", params });
          return (handlers.send ?? notHere)(params, call);
        },
        recv: async (params, call) => {
          harness.seen.push({ cmd: "recv", params });
          return (handlers.recv ?? notHere)(params, call);
        },
        wake: handlers.wake ?? notHere,
      },
    });
    await server.start();
    cleanups.push(() => server.stop());
    const [a, b] = InMemoryTransport.createLinkedPair();
    await createMcpServer((cmd, params) => socketRequest(path, cmd, params)).connect(a);
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

  it("lists send and recv with their input schemas", async () => {
    const { client } = await connected({});
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), ["recv", "send"]);
    const send = tools.find((x) => x.name === "send")!;
    assert.deepEqual(send.inputSchema.required?.sort(), ["body", "to"]);
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
