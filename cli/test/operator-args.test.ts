import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connectNats, type NatsConnection, rpcs, subjects } from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  tempDir,
  waitUntil,
  withTimeout,
} from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { cleanEnv, HIVE, hive } from "./helpers.js";
import { pretendHive, StandIns } from "./standins.js";

/**
 * Arguments the hive would refuse are refused by the CLI first (exit 2, the command's usage), so
 * they never reach NATS; and purge's confirmation on a real terminal.
 */
describe("operator commands: arguments", () => {
  let nats: NatsServerHandle;
  let tmp: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => hive([...args, "--root", tmp.path], env);

  beforeAll(async () => {
    nats = await natsForTests();
    tmp = tempDir("hive-operator-args-");
    env = cleanEnv(tmp.path);
    pretendHive(tmp.path, nats.url);
  });

  afterAll(async () => {
    await nats?.stop();
    tmp?.remove();
  });

  const refused: [string[], string][] = [
    [
      ["kill", "Bob"],
      'kill: "Bob" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["start", "a.b"],
      'start: "a.b" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [["restart"], "restart: missing <name> (or --all)"],
    [["restart", "alice", "--all"], 'restart: --all restarts every agent: drop "alice"'],
    [
      ["destroy", "operator"],
      'destroy: "operator" is not an agent name (operator and system are reserved names)',
    ],
    [
      ["purge", "x>y", "--yes"],
      'purge: "x>y" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["purge", "bob"],
      "purge: not on a terminal, so nobody can type bob to confirm: add --yes to purge it",
    ],
    [["approve", "0"], 'approve: <id> must be a whole number from 1, not "0"'],
    [["approve", "two"], 'approve: <id> must be a whole number from 1, not "two"'],
    [["deny", "1.5"], 'deny: <id> must be a whole number from 1, not "1.5"'],
    [["deny", "1", "--reason", "  "], "deny: --reason is empty: give one, or leave --reason out"],
    [
      ["deny", "1", "--reason", "x".repeat(1001)],
      "deny: invalid arguments: reason: Too big: expected string to have <=1000 characters",
    ],
    [
      ["model", "alice", "so net"],
      'model: "so net" is not a model name (a model name: letters, digits and . _ : @ / -)',
    ],
    [
      ["model", "ALICE", "sonnet"],
      'model: "ALICE" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["compact", "*"],
      'compact: "*" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["new-session", "a b"],
      'new-session: "a b" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["cancel", ""],
      'cancel: "" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [["agents", "--all", "x"], 'agents: unexpected argument "x"'],
    [
      ["send", "Alice", "hi"],
      "send: \"Alice\" is not an agent name or '*' (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)",
    ],
    [
      ["send", "**", "hi"],
      "send: \"**\" is not an agent name or '*' (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)",
    ],
    [
      ["send", "*", " "],
      "send: invalid arguments: body: body must not be empty or only whitespace",
    ],
    [
      ["history", "--agent", "ALL"],
      'history: "ALL" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["history", "--agent", "system"],
      'history: "system" is not an agent name (operator and system are reserved names)',
    ],
    [["history", "--thread", "0"], 'history: --thread must be a whole number from 1, not "0"'],
    [["history", "--before", "x"], 'history: --before must be a whole number from 1, not "x"'],
    [
      ["history", "--limit", "501"],
      'history: --limit must be a whole number from 1 to 500, not "501"',
    ],
    [
      ["history", "--since", "yesterday"],
      'history: --since must be a time: 15m, 2h, 7d (that long ago), 2026-11-22 or 2026-11-22T10:00 (UTC), or unix ms; not "yesterday"',
    ],
    [
      ["history", "--until", "soon"],
      'history: --until must be a time: 15m, 2h, 7d (that long ago), 2026-11-22 or 2026-11-22T10:00 (UTC), or unix ms; not "soon"',
    ],
    [["history", "--since", "1h", "--until", "2h"], "history: --until must be later than --since"],
    [["questions", "--all", "x"], 'questions: unexpected argument "x"'],
    [["answer", "x", "yes"], 'answer: <id> must be a whole number from 1, not "x"'],
    [["answer", "5"], "answer: missing <text> (or --option LABEL)"],
    [["answer", "5", " "], "answer: <text> is empty: give one, or answer with --option LABEL"],
    [
      ["answer", "5", "--option", ""],
      "answer: --option is empty: give one of the question's options",
    ],
    [["answer", "5", "--option", "a", "--option", "a"], 'answer: --option "a" is given twice'],
    [
      ["answer", "5", "x".repeat(4001)],
      "answer: invalid arguments: text: Too big: expected string to have <=4000 characters",
    ],
    [
      ["answer", "5", "--option", "x".repeat(201)],
      "answer: invalid arguments: options.0: Too big: expected string to have <=200 characters",
    ],
    [["cancel-question", "-"], 'cancel-question: <id> must be a whole number from 1, not "-"'],
    [["cancel-question", "1e3"], 'cancel-question: <id> must be a whole number from 1, not "1e3"'],
    [
      ["threads", "operator"],
      'threads: "operator" is not an agent name (operator and system are reserved names)',
    ],
    [["approvals", "--diff=yes"], "approvals: --diff takes no value"],
    [
      ["reminders", "--limit", "1001"],
      'reminders: --limit must be a whole number from 1 to 1000, not "1001"',
    ],
    [
      ["reminders", "--agent", "operator"],
      'reminders: "operator" is not an agent name (operator and system are reserved names)',
    ],
    [["reminders", "--all=no"], "reminders: --all takes no value"],
    [["remind", "alice", "10m"], "remind: missing <body>"],
    [
      ["remind", "Alice", "10m", "x"],
      'remind: "Alice" is not an agent name (agent names are 1-9 chars: a-z first, then a-z, 0-9 or -)',
    ],
    [
      ["remind", "alice", "tomorrow", "x"],
      'remind: <when> must be a duration (90s, 10m, 1h30m, 2d) or a time with its offset (2026-12-05T09:00Z, 2026-12-05T10:00:00+01:00); not "tomorrow"',
    ],
    [
      ["remind", "alice", "600", "x"],
      'remind: <when> must be a duration (90s, 10m, 1h30m, 2d) or a time with its offset (2026-12-05T09:00Z, 2026-12-05T10:00:00+01:00); not "600"',
    ],
    [
      ["remind", "alice", "2026-12-05T09:00", "x"],
      'remind: <when> "2026-12-05T09:00" needs its offset: Z for UTC (2026-12-05T09:00Z), or like +01:00',
    ],
    [
      ["remind", "alice", "2026-02-30T09:00Z", "x"],
      'remind: <when> "2026-02-30T09:00Z" is not a time that exists',
    ],
    [["remind", "alice", "0m", "x"], 'remind: <when> "0m" is no time at all'],
    [
      ["remind", "alice", "367d", "x"],
      'remind: <when> "367d" is longer than a year (366d), the most the scheduler takes',
    ],
    [
      ["remind", "alice", "10m", "x", "--every", "59s"],
      'remind: --every must be at least 1m (a repeating reminder\'s shortest period), not "59s"',
    ],
    [
      ["remind", "alice", "10m", "x", "--every", "1 h"],
      'remind: --every must be a duration (1m, 1h30m, 1d); not "1 h"',
    ],
    [
      ["remind", "alice", "10m", " "],
      "remind: invalid arguments: body: body must not be empty or only whitespace",
    ],
    [
      ["remind", "alice", "10m", "x".repeat(2001)],
      "remind: invalid arguments: body: a reminder's text is at most 2000 characters",
    ],
    [["cancel-reminder", "1.5"], 'cancel-reminder: <id> must be a whole number from 1, not "1.5"'],
    [["cancel-reminder"], "cancel-reminder: missing <id>"],
    [["retry-reminder", "0"], 'retry-reminder: <id> must be a whole number from 1, not "0"'],
  ];

  it("refuses each malformed command line with its usage, exit 2, and publishes nothing", async () => {
    // Everything published on this NATS, by anyone.
    const watch: NatsConnection = await connectNats({ url: nats.url, name: "test-watch" });
    const seen: string[] = [];
    const sub = watch.subscribe(">");
    void (async () => {
      for await (const m of sub) seen.push(m.subject);
    })();
    await watch.flush();
    try {
      const results = await Promise.all(refused.map(([args]) => cli(...args)));
      results.forEach((r, i) => {
        const [args, message] = refused[i] ?? [[], ""];
        const name = args[0] ?? "";
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        assert.equal(r.stdout, "");
        const [first, second] = r.stderr.split("\n");
        assert.equal(first, `hive: ${message}`);
        assert.match(second ?? "", new RegExp(`^usage: hive ${name} `));
      });
      const json = await cli("approve", "0", "--json");
      assert.equal(json.code, 2);
      assert.deepEqual(JSON.parse(json.stdout), {
        error: {
          code: "bad_request",
          message: 'approve: <id> must be a whole number from 1, not "0"',
          retryable: false,
        },
      });
      await watch.flush();
      assert.deepEqual(seen, [], "nothing reached NATS");
    } finally {
      await watch.close();
    }
  });

  describe("purge on a terminal", () => {
    let stand: StandIns;

    beforeAll(async () => {
      stand = await StandIns.connect(nats.url);
      stand.on(subjects.op.agentPurge, rpcs.opPurge, (r) => ({
        name: r.name,
        state_dir: `/hive/agents/${r.name}/state`,
      }));
      await stand.flush();
    });

    afterAll(async () => {
      await stand?.close();
    });

    /** `hive purge bob` under a pseudo-terminal (`script`), answering its question with `typed`. */
    async function purgeOnTerminal(typed: string) {
      const command = `${process.execPath} ${HIVE} purge bob --root ${tmp.path}`;
      const term = spawn("script", ["-qfec", command, "/dev/null"], {
        env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let screen = "";
      term.stdout.on("data", (d: Buffer) => {
        screen += d.toString();
      });
      const exited = new Promise<number | null>((res) => term.once("exit", (code) => res(code)));
      await waitUntil(() => screen.includes("type bob to go on: "), {
        timeoutMs: 15_000,
        what: `purge's question (screen: ${JSON.stringify(screen)})`,
      });
      term.stdin.write(`${typed}\n`);
      const code = await withTimeout(exited, 15_000, "purge on a terminal");
      term.stdin.end();
      return { code, screen };
    }

    it("asks to type the name, and purges only when it is typed right", async () => {
      const from = stand.calls.length;
      const typo = await purgeOnTerminal("bbo");
      assert.equal(typo.code, 1, typo.screen);
      assert.match(typo.screen, /hive: not purged: "bbo" was typed, not bob/);
      assert.equal(stand.calls.length, from, "a typo purges nothing");
      const right = await purgeOnTerminal("bob");
      assert.equal(right.code, 0, right.screen);
      assert.match(
        right.screen,
        /purged bob: deleted \/hive\/agents\/bob\/state; the name is free/,
      );
      assert.deepEqual(stand.since(from), [
        { subject: "hive.op.agent.purge", payload: { name: "bob", confirm: "bob" } },
      ]);
    });
  });
});
