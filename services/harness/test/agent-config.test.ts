import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { AgentConfig, type AgentRunConfig, writeFileAtomic } from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { MODEL_FILE } from "../src/model.js";
import { RUN_CONFIG_FILE } from "../src/run-config.js";
import { Bench } from "./bench.js";
import { HARNESS_MAIN, harnessEnv, REPO } from "./procs.js";

const run = promisify(execFile);

/** The model server's tiny stdio MCP server (server `hyperhive`, tool `send` appending to $SEND_LOG). */
const SEND_MCP = join(REPO, "services/model-server/dist/test/fixtures/send-mcp.js");

const REV_1 = "1111111111111111111111111111111111111111";
const REV_2 = "2222222222222222222222222222222222222222";

/** A case that runs several real claude turns in a row gets this long. */
const TURNS_TIMEOUT_MS = 120_000;

/**
 * `<run>/agent-config.json` (what c0re writes before each start) as the harness applies it, with
 * the real claude: its built-ins, its extra MCP servers and their allowed tools, its env, its
 * model, and the operator's `/model` over it under the rev rule.
 */
describe("the agent's config file", () => {
  const bench = new Bench(["cfg", "modl", "slow", "hook", "rule"]);
  beforeAll(() => bench.start());
  afterEach(() => bench.stopHarnesses());
  afterAll(() => bench.stop());

  const runDir = (agent: string) => join(bench.root, agent, "run");
  function writeRunConfig(agent: string, cfg: AgentRunConfig): void {
    mkdirSync(runDir(agent), { recursive: true });
    writeFileAtomic(join(runDir(agent), RUN_CONFIG_FILE), JSON.stringify(cfg));
  }

  /** Sends a message and waits for its ack; the model of the model-server requests it drove. */
  async function turnModels(agent: string, body: string): Promise<(string | null)[]> {
    const id = await bench.opSend(agent, body);
    await waitUntil(() => bench.obs.ackedIds(agent).includes(id), {
      timeoutMs: 60_000,
      what: `the turn on "${body}"`,
    });
    return (await bench.ctl.requests()).filter((r) => r.text.includes(body)).map((r) => r.model);
  }

  it(
    "claude gets the config's built-ins, extra MCP servers (allowed tools only), env and model",
    async () => {
      const agent = "cfg";
      const notesLog = join(bench.root, "notes.jsonl");
      const muteLog = join(bench.root, "mute.jsonl");
      const server = (log: string) => ({
        command: process.execPath,
        args: [SEND_MCP, "--serve"],
        env: { SEND_LOG: log },
      });
      writeRunConfig(agent, {
        rev: REV_1,
        config: {
          model: "claude-cfg-a",
          allowed_tools: ["Bash"],
          extra_mcp_servers: {
            notes: { ...server(notesLog), allowed_tools: ["*"] },
            mute: { ...server(muteLog), allowed_tools: [] },
          },
          env: { GREETING: "hello-from-meta" },
        },
      });
      await bench.ctl.setScript([
        {
          match: "use your tools",
          reply: [
            { tool_use: { name: "mcp__notes__send", input: { to: "x", body: "via notes" } } },
            { text: "next" },
            { tool_use: { name: "mcp__mute__send", input: { to: "x", body: "via mute" } } },
            { text: "next" },
            {
              tool_use: {
                name: "Bash",
                input: { command: "echo greeting=$GREETING", description: "greet" },
              },
            },
            { text: "next" },
            { tool_use: { name: "Write", input: { file_path: "w.txt", content: "x" } } },
            { text: "done" },
          ],
        },
      ]);
      await bench.ctl.clearRequests();
      const h = await bench.harness(agent);
      assert.equal(h.loop.whoami().model, "claude-cfg-a");
      const models = await turnModels(agent, "use your tools");
      assert.ok(models.length > 0 && models.every((m) => m === "claude-cfg-a"), String(models));

      // What each tool call came back as, in order.
      const results = (await bench.ctl.requests())
        .filter((r) => r.kind === "continue")
        .map((r) => r.text);
      assert.equal(results.length, 4, results.join("\n---\n"));
      assert.equal(results[0], "sent (id 1)");
      assert.match(results[1] ?? "", /permissions to use mcp__mute__send/);
      assert.equal(results[2], "greeting=hello-from-meta");
      assert.match(results[3] ?? "", /No such tool available: Write/);
      assert.deepEqual(
        readFileSync(notesLog, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
        [{ to: "x", body: "via notes" }],
      );
      assert.equal(existsSync(muteLog), false, "the refused call never reached its server");

      // claude's own account of what it was given.
      const init = bench.obs.claudeInits(agent)[0];
      assert.ok(init);
      const tools = z.array(z.string()).parse(init.tools);
      assert.deepEqual(
        tools.filter((t) => !t.startsWith("mcp__")),
        ["Bash"],
      );
      for (const t of ["mcp__notes__send", "mcp__mute__send", "mcp__hyperhive__whoami"]) {
        assert.ok(
          tools.includes(t),
          `${t} in ${tools.join(",")} ${JSON.stringify(init.mcp_servers)}`,
        );
      }
      const servers = z
        .array(z.looseObject({ name: z.string(), status: z.string() }))
        .parse(init.mcp_servers);
      assert.deepEqual(servers.map((s) => `${s.name}:${s.status}`).sort(), [
        "hyperhive:connected",
        "mute:connected",
        "notes:connected",
      ]);
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "an MCP server slow to start (7 s, past claude's own 5 s) is waited for: the first turn's call reaches it",
    async () => {
      const agent = "slow";
      const slowLog = join(bench.root, "slow.jsonl");
      // Starts serving only after 7 s: a loaded machine's node + MCP SDK start-up, exaggerated.
      const startLate = `setTimeout(() => { process.argv.push("--serve"); import(${JSON.stringify(SEND_MCP)}); }, 7000);`;
      writeRunConfig(agent, {
        rev: REV_1,
        config: AgentConfig.parse({
          extra_mcp_servers: {
            slow: {
              command: process.execPath,
              args: ["-e", startLate],
              env: { SEND_LOG: slowLog },
              allowed_tools: ["*"],
            },
          },
        }),
      });
      await bench.ctl.setScript([
        {
          match: "call the slow one",
          reply: [
            { tool_use: { name: "mcp__slow__send", input: { to: "x", body: "late but there" } } },
            { text: "done" },
          ],
        },
      ]);
      await bench.ctl.clearRequests();
      await bench.harness(agent);
      await turnModels(agent, "call the slow one");
      const results = (await bench.ctl.requests())
        .filter((r) => r.kind === "continue")
        .map((r) => r.text);
      assert.deepEqual(results, ["sent (id 1)"]);
      assert.deepEqual(JSON.parse(readFileSync(slowLog, "utf8")), {
        to: "x",
        body: "late but there",
      });
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "an extra MCP server reaches its agent's socket: what it hears of wakes the agent (HIVE_SOCKET in its env)",
    async () => {
      const agent = "hook";
      const mark = join(bench.root, "woke-once");
      // Not an MCP server: it wakes its agent once and exits, as a chat bridge would on a message.
      const wakeOnce = [
        `[ -e ${mark} ] && exit 1`,
        `touch ${mark}`,
        `exec ${process.execPath} ${HARNESS_MAIN} wake --from "webhook: ci" --body "build 7 is green"`,
      ].join("; ");
      writeRunConfig(agent, {
        rev: REV_1,
        config: AgentConfig.parse({
          extra_mcp_servers: { hook: { command: "sh", args: ["-c", wakeOnce] } },
        }),
      });
      await bench.ctl.setScript([{ match: "", reply: [{ text: "ok" }] }]);
      await bench.ctl.clearRequests();
      await bench.harness(agent);
      await turnModels(agent, "first turn");
      await waitUntil(
        async () =>
          (await bench.ctl.requests()).find((r) =>
            /from: webhook: ci\s+build 7 is green/.test(r.text),
          ),
        { timeoutMs: 60_000, what: "the turn the extra server's wake started" },
      );
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "a built-in given by a rule (Bash(echo *)): what it matches runs, the rest is refused",
    async () => {
      const agent = "rule";
      writeRunConfig(agent, {
        rev: REV_1,
        config: AgentConfig.parse({ allowed_tools: ["Read", "Bash(echo *)"] }),
      });
      const bash = (command: string) => ({
        tool_use: { name: "Bash", input: { command, description: command } },
      });
      await bench.ctl.setScript([
        {
          match: "run by the rule",
          reply: [
            bash("echo ruled-in"),
            { text: "next" },
            bash("touch outside-rule"),
            { text: "done" },
          ],
        },
      ]);
      await bench.ctl.clearRequests();
      const h = await bench.harness(agent);
      await turnModels(agent, "run by the rule");
      const results = (await bench.ctl.requests())
        .filter((r) => r.kind === "continue")
        .map((r) => r.text);
      assert.equal(results.length, 2, results.join("\n---\n"));
      assert.equal(results[0], "ruled-in");
      assert.doesNotMatch(results[1] ?? "", /^$/);
      assert.match(results[1] ?? "", /blocked|permission|approv/i, "outside the rule: refused");
      assert.equal(
        existsSync(join(bench.root, agent, "state", "outside-rule")),
        false,
        "the refused command never ran",
      );
      const init = bench.obs.claudeInits(agent)[0];
      assert.ok(init);
      assert.ok(z.array(z.string()).parse(init.tools).includes("Bash"), "Bash is offered");
      assert.equal(h.loop.whoami().name, agent);
    },
    TURNS_TIMEOUT_MS,
  );

  it(
    "the model: an old one-line override alone; the config's model over it; /model under the rev, across a restart; a new rev wins",
    async () => {
      const agent = "modl";
      await bench.ctl.setScript([{ match: "", reply: [{ text: "ok" }] }]);
      const stateDir = join(bench.root, agent, "state");
      const statesOf = () => bench.obs.states.filter((s) => s.agent === agent);
      /** Starts the harness; the model its first state event says, checked against its turn's. */
      const modelOf = async (n: number) => {
        const before = statesOf().length;
        const h = await bench.harness(agent, { env: { HIVE_MODEL: "model-env" } });
        const said = (await waitUntil(() => statesOf()[before], { what: "the first state" })).model;
        const used = await turnModels(agent, `turn ${n}`);
        assert.deepEqual([...new Set(used)], [said], `turn ${n}: what it said is what it used`);
        return { h, model: said };
      };

      // Before any config file: the old plain-text override still counts.
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(join(stateDir, MODEL_FILE), "model-legacy\n");
      assert.equal((await modelOf(1)).model, "model-legacy");
      await bench.stopHarnesses();
      // c0re hands over a config: it supersedes the old override.
      writeRunConfig(agent, { rev: REV_1, config: AgentConfig.parse({ model: "model-one" }) });
      const second = await modelOf(2);
      assert.equal(second.model, "model-one");
      // The operator's /model: the next turn, and after a restart on the same config too.
      await bench.setModel(agent, "model-two");
      assert.equal((await turnModels(agent, "turn 3")).at(-1), "model-two");
      await bench.stopHarnesses();
      assert.equal((await modelOf(4)).model, "model-two");
      await bench.stopHarnesses();
      // A config applied since (a new rev) wins, until the next /model.
      writeRunConfig(agent, { rev: REV_2, config: AgentConfig.parse({ model: "model-three" }) });
      const fifth = await modelOf(5);
      assert.equal(fifth.model, "model-three");
      assert.equal(fifth.h.loop.whoami().model, "model-three");
      await bench.setModel(agent, "model-four");
      assert.equal((await turnModels(agent, "turn 6")).at(-1), "model-four");
      assert.deepEqual(JSON.parse(readFileSync(join(stateDir, MODEL_FILE), "utf8")), {
        model: "model-four",
        rev: REV_2,
      });
    },
    TURNS_TIMEOUT_MS,
  );

  it("a malformed config file stops `serve` at boot, naming the file and the field", async () => {
    const agent = "cfg";
    writeFileSync(
      join(runDir(agent), RUN_CONFIG_FILE),
      JSON.stringify({ config: { allowed_tools: ["Teleport"] }, rev: REV_1 }),
    );
    const env = harnessEnv({
      natsUrl: bench.natsUrl,
      root: bench.root,
      agent,
      prompts: bench.prompts,
      modelUrl: String(bench.model.ready.url),
    });
    await assert.rejects(
      run(process.execPath, [HARNESS_MAIN, "serve"], {
        env: { ...process.env, ...env },
        timeout: 15_000,
      }),
      (e: { code?: number; stderr?: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr ?? "", /agent-config\.json: config\.allowed_tools\.0/);
        return true;
      },
    );
  });
});
