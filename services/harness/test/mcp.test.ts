import assert from "node:assert/strict";
import { ErrorCode, HiveError } from "@hyperhive/shared";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, it } from "vitest";
import { createMcpServer, type HarnessCall } from "../src/mcp.js";
import type { SocketCommand } from "../src/socket.js";

async function connected(call: HarnessCall): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await createMcpServer(call).connect(a);
  const client = new Client({ name: "test", version: "0" });
  await client.connect(b);
  return client;
}

function textOf(r: unknown): string {
  const c = (r as { content: { type: string; text: string }[] }).content;
  return c.map((x) => x.text).join("");
}

describe("MCP server", () => {
  it("lists send and recv with their input schemas", async () => {
    const client = await connected(async () => ({}));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["recv", "send"]);
    const send = tools.find((t) => t.name === "send")!;
    assert.deepEqual(send.inputSchema.required?.sort(), ["body", "to"]);
    await client.close();
  });

  it("send and recv go to the harness socket as commands", async () => {
    const calls: SocketCommand[] = [];
    const client = await connected(async (cmd) => {
      calls.push(cmd);
      if (cmd.cmd === "send") return { id: 12, duplicate: false, sent_at: 1 };
      return {
        message: { id: 13, from: "bob", body: "ping", redelivered: false, sent_at: 1 },
        pending: 1,
      };
    });
    const sent = await client.callTool({ name: "send", arguments: { to: "operator", body: "hi" } });
    assert.equal(sent.isError, undefined);
    assert.match(textOf(sent), /sent to operator \(message 12\)/);
    const got = await client.callTool({ name: "recv", arguments: { wait_seconds: 500 } });
    assert.equal(textOf(got), "from: bob\n\nping\n\n(1 more pending — call recv to drain)");
    assert.deepEqual(calls, [
      { cmd: "send", to: "operator", body: "hi" },
      { cmd: "recv", wait_seconds: 180 },
    ]);
    await client.close();
  });

  it("the broker's refusal of a large body reaches claude as a tool error", async () => {
    const client = await connected(async () => {
      throw new HiveError(
        ErrorCode.BodyTooLarge,
        "body is 5000 bytes, over the 4096-byte limit: write it to a file in your state dir and send the path",
      );
    });
    const r = await client.callTool({
      name: "send",
      arguments: { to: "operator", body: "x".repeat(5000) },
    });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /body_too_large.*write it to a file/);
    await client.close();
  });

  it("an empty inbox says so", async () => {
    const client = await connected(async () => ({ message: null, pending: 0 }));
    assert.equal(textOf(await client.callTool({ name: "recv", arguments: {} })), "(no messages)");
    await client.close();
  });
});
