import assert from "node:assert/strict";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { calls, type Hive, startHive } from "./hive.js";

/**
 * The manager's own tools against c0re, end to end: the manager's claude (scripted at the model
 * server) calls request_spawn, kill and start through its MCP server, its harness and NATS.
 * A hive of its own, so the manager's inbox holds nothing but what this test sends.
 */
describe("the manager's tools reach c0re", () => {
  let hive: Hive;
  let call: ReturnType<typeof calls>;
  const find = async (name: string) => (await call.agents()).find((a) => a.name === name);

  beforeAll(async () => {
    hive = await startHive("c0re-tools-");
    call = calls(hive.nc);
  });
  afterAll(async () => {
    await hive?.stop();
  });

  it("the manager's claude asks for a spawn with its tool; approved, erin answers a ping, and the manager's tools kill and start it", async () => {
    const tool = (name: string, verb: string) => ({
      match: `from: operator\\n\\n${verb} (\\w+) please`,
      reply: [
        { tool_use: { name: `mcp__hyperhive__${name}`, input: { name: "{{match.1}}" } } },
        { text: "Done." },
      ],
    });
    await hive.model.setScript([
      tool("request_spawn", "spawn"),
      tool("kill", "kill"),
      tool("start", "start"),
      {
        match: "from: operator\\n\\n(ping[^\\n]*)",
        reply: [
          {
            tool_use: {
              name: "mcp__hyperhive__send",
              input: { to: "operator", body: "pong: {{match.1}}" },
            },
          },
          { text: "Replied." },
        ],
      },
      { match: "", reply: [{ text: "Noted." }] },
    ]);
    await call.send("manager", "spawn erin please");
    const asked = await waitUntil(
      async () =>
        (await call.approvals()).find((a) => a.kind === "spawn" && a.details.name === "erin"),
      { timeoutMs: 30_000, what: "the manager's request_spawn in the queue" },
    );
    assert.equal(asked.submitter, "manager");
    await call.approve(asked.id);
    const started = () =>
      hive.seen.lifecycle.filter((e) => e.agent === "erin" && e.event === "started").length;
    await waitUntil(() => started() === 1, { timeoutMs: 30_000, what: "erin started" });
    await call.send("erin", "ping erin");
    await waitUntil(
      () =>
        hive.seen.mail.find(
          (m) => m.to === "operator" && m.from === "erin" && m.preview === "pong: ping erin",
        ),
      { timeoutMs: 30_000, what: "erin's pong" },
    );
    await call.send("manager", "kill erin please");
    await waitUntil(
      () => hive.seen.lifecycle.find((e) => e.agent === "erin" && e.event === "stopped"),
      {
        timeoutMs: 30_000,
        what: "erin stopped by the manager's kill tool",
      },
    );
    assert.equal((await find("erin"))?.running, false);
    await call.send("manager", "start erin please");
    await waitUntil(() => started() === 2, {
      timeoutMs: 30_000,
      what: "erin started by the manager's start tool",
    });
  });
});
