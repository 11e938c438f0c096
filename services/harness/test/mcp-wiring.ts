import { join } from "node:path";
import type { AgentRole, Clock } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { createMcpServer } from "../src/mcp.js";
import type { SocketHandlers } from "../src/socket.js";
import { socketRequest } from "../src/socket-client.js";
import { SocketServer } from "../src/socket-server.js";
import { type Seen, standInHandlers } from "./handlers.js";

/** A stand-in harness socket: every command it saw, with its params. */
export interface StandInHarness {
  seen: Seen[];
}

/**
 * The MCP server as claude's child runs it, talking over a real socket to a stand-in harness
 * whose handlers the test writes; its client connected in-process. {@link close} after each test.
 */
export class McpWiring {
  readonly #t = tempDir("hive-mcp-");
  #cleanups: (() => Promise<unknown>)[] = [];
  #n = 0;

  async connect(
    handlers: Partial<SocketHandlers>,
    role: AgentRole,
    clock: Clock,
  ): Promise<{ client: Client; harness: StandInHarness }> {
    const harness: StandInHarness = { seen: [] };
    const path = join(this.#t.path, `h${++this.#n}.sock`);
    const server = new SocketServer({ path, handlers: standInHandlers(harness.seen, handlers) });
    await server.start();
    this.#cleanups.push(() => server.stop());
    const [a, b] = InMemoryTransport.createLinkedPair();
    await createMcpServer((cmd, params) => socketRequest(path, cmd, params), role, clock).connect(
      a,
    );
    const client = new Client({ name: "test", version: "0" });
    await client.connect(b);
    this.#cleanups.push(() => client.close());
    return { client, harness };
  }

  /** Closes every client and socket opened since the last close. */
  async close(): Promise<void> {
    for (const f of this.#cleanups.reverse()) await f();
    this.#cleanups = [];
  }

  remove(): void {
    this.#t.remove();
  }
}

/** Calls a tool; its text (the parts joined) and whether it is a tool error. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ text: string; isError: boolean }> {
  const r = CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return { text, isError: r.isError === true };
}
