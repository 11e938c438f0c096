import assert from "node:assert/strict";
import { tempDir } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { agentArgument, idArgument, intOption, parseCommand, UsageError } from "../src/args.js";
import { closestCommand, commands, splitCommand } from "../src/catalog.js";
import { formatDuration, parseAt, parseDuration, parseMoment } from "../src/when.js";
import { cleanEnv, hive } from "./helpers.js";

describe("parsing a command line", () => {
  it("finds the command past options that come before it", () => {
    assert.deepEqual(splitCommand(["--root", "/r", "agents", "--json"]), {
      name: "agents",
      rest: ["--root", "/r", "--json"],
    });
    assert.deepEqual(splitCommand(["--json"]), { name: undefined, rest: ["--json"] });
  });

  it("gives typed values and positionals", () => {
    const r = parseCommand(commands.send, ["manager", "hi there", "--json", "--root=/r"]);
    assert.deepEqual(r.positionals, ["manager", "hi there"]);
    assert.equal(r.values.json, true);
    assert.equal(r.values.root, "/r");
    const body = parseCommand(commands.send, ["manager", "--", "-x"]);
    assert.deepEqual(body.positionals, ["manager", "-x"], "after -- a dash is a body");
  });

  const wrong: [keyof typeof commands, string[], string][] = [
    ["send", [], "send: missing <to>"],
    ["send", ["manager"], "send: missing <body>"],
    ["send", ["manager", "a", "b"], 'send: unexpected argument "b"'],
    [
      "send",
      ["manager", "hi", "--to", "x"],
      "send: unknown option --to (an argument starting with - goes after --)",
    ],
    ["up", ["--prot", "1"], "up: unknown option --prot"],
    ["up", ["--port"], "up: --port needs a value"],
    ["up", ["--port", "--offline"], "up: --port needs a value"],
    ["up", ["--offline=yes"], "up: --offline takes no value"],
    ["agents", ["extra"], 'agents: unexpected argument "extra"'],
    ["agents", ["--all=yes"], "agents: --all takes no value"],
    ["token", ["-r"], "token: unknown option -r"],
    ["kill", [], "kill: missing <name>"],
    ["kill", ["alice", "bob"], 'kill: unexpected argument "bob"'],
    [
      "start",
      ["--force", "alice"],
      "start: unknown option --force (an argument starting with - goes after --)",
    ],
    ["restart", ["alice", "bob"], 'restart: unexpected argument "bob"'],
    ["restart", ["--all=1"], "restart: --all takes no value"],
    ["destroy", [], "destroy: missing <name>"],
    ["purge", [], "purge: missing <name>"],
    ["purge", ["alice", "--yes=alice"], "purge: --yes takes no value"],
    [
      "purge",
      ["alice", "-y"],
      "purge: unknown option -y (an argument starting with - goes after --)",
    ],
    ["approvals", ["3"], 'approvals: unexpected argument "3"'],
    ["approvals", ["--pending"], "approvals: unknown option --pending"],
    ["approve", [], "approve: missing <id>"],
    ["approve", ["1", "2"], 'approve: unexpected argument "2"'],
    ["approve", ["-1"], "approve: unknown option -1 (an argument starting with - goes after --)"],
    ["deny", [], "deny: missing <id>"],
    ["deny", ["1", "--reason"], "deny: --reason needs a value"],
    [
      "deny",
      ["1", "--because", "x"],
      "deny: unknown option --because (an argument starting with - goes after --)",
    ],
    ["history", ["alice"], 'history: unexpected argument "alice"'],
    ["history", ["--agent"], "history: --agent needs a value"],
    ["history", ["--since", "--limit", "5"], "history: --since needs a value"],
    ["history", ["--from", "alice"], "history: unknown option --from"],
    ["questions", ["5"], 'questions: unexpected argument "5"'],
    ["questions", ["--all=no"], "questions: --all takes no value"],
    ["answer", [], "answer: missing <id>"],
    ["answer", ["5", "yes", "now"], 'answer: unexpected argument "now"'],
    ["answer", ["5", "--option"], "answer: --option needs a value"],
    [
      "answer",
      ["5", "--options", "a"],
      "answer: unknown option --options (an argument starting with - goes after --)",
    ],
    ["cancel-question", [], "cancel-question: missing <id>"],
    ["cancel-question", ["1", "2"], 'cancel-question: unexpected argument "2"'],
    ["threads", ["alice", "bob"], 'threads: unexpected argument "bob"'],
    [
      "threads",
      ["--all"],
      "threads: unknown option --all (an argument starting with - goes after --)",
    ],
    ["model", ["alice"], "model: missing <model>"],
    ["model", [], "model: missing <agent>"],
    ["model", ["alice", "sonnet", "haiku"], 'model: unexpected argument "haiku"'],
    ["compact", [], "compact: missing <agent>"],
    ["new-session", ["alice", "now"], 'new-session: unexpected argument "now"'],
    [
      "cancel",
      ["--all"],
      "cancel: unknown option --all (an argument starting with - goes after --)",
    ],
  ];
  it.each(wrong)("%s %j: %s", (name, args, message) => {
    const def = commands[name];
    assert.throws(
      () => parseCommand(def, args),
      (e: unknown) => e instanceof UsageError && e.message === message && e.command === def,
    );
  });

  it("checks integer options and their range", () => {
    const def = commands.up;
    assert.equal(intOption(def, "port", undefined, 7777, { min: 0, max: 65535 }), 7777);
    assert.equal(intOption(def, "port", "0", 7777, { min: 0, max: 65535 }), 0);
    for (const bad of ["-1", "65536", "7e3", "1.5", "", "x"]) {
      assert.throws(
        () => intOption(def, "port", bad, 7777, { min: 0, max: 65535 }),
        /^UsageError: up: --port must be a whole number from 0 to 65535, not /,
      );
    }
  });

  it("answer takes text, repeated --option, both; threads an optional agent; history its filters", () => {
    const both = parseCommand(commands.answer, ["5", "--option", "eu", "ship it", "--option=us"]);
    assert.deepEqual(both.positionals, ["5", "ship it"]);
    assert.deepEqual(both.values.option, ["eu", "us"]);
    const dash = parseCommand(commands.answer, ["5", "--", "-1 is fine"]);
    assert.deepEqual(dash.positionals, ["5", "-1 is fine"], "after -- a dash is text");
    assert.equal(dash.values.option, undefined);
    assert.deepEqual(parseCommand(commands.threads, []).positionals, []);
    assert.deepEqual(parseCommand(commands.threads, ["alice"]).positionals, ["alice"]);
    const h = parseCommand(commands.history, [
      "--agent=alice",
      "--thread",
      "12",
      "--since",
      "2h",
      "--limit",
      "5",
      "--before",
      "40",
    ]);
    assert.deepEqual(
      [h.values.agent, h.values.thread, h.values.since, h.values.limit, h.values.before],
      ["alice", "12", "2h", "5", "40"],
    );
    assert.deepEqual(parseCommand(commands.send, ["*", "hi all"]).positionals, ["*", "hi all"]);
  });

  it("reads --since as that long ago, an ISO date or time (UTC unless it says), or unix ms", () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const cases: [string, number][] = [
      ["90s", now - 90_000],
      ["15m", now - 900_000],
      ["2h", now - 7_200_000],
      ["7d", now - 7 * 86_400_000],
      ["1w", now - 604_800_000],
      ["0m", now],
      ["2026-11-22", Date.UTC(2026, 10, 22)],
      ["2026-11-22T10:00", Date.UTC(2026, 10, 22, 10, 0)],
      ["2026-11-22 10:00:05", Date.UTC(2026, 10, 22, 10, 0, 5)],
      ["2026-11-22T10:00:05.250", Date.UTC(2026, 10, 22, 10, 0, 5, 250)],
      ["2026-11-22T10:00Z", Date.UTC(2026, 10, 22, 10, 0)],
      ["2026-11-22T10:00+02:00", Date.UTC(2026, 10, 22, 8, 0)],
      ["1795000000000", 1_795_000_000_000],
    ];
    for (const [v, want] of cases) assert.equal(parseMoment(v, now), want, v);
    for (const bad of [
      "",
      "yesterday",
      "2h ago",
      "-2h",
      "2.5h",
      "2026-02-30",
      "2026-13-01",
      "22/11/2026",
      "10:00",
      "2026-11-22T25:00",
    ]) {
      assert.equal(parseMoment(bad, now), undefined, bad);
    }
  });

  it("reads a duration (remind's <when>, --every) in seconds, and writes one back the same way", () => {
    const cases: [string, number][] = [
      ["90s", 90],
      ["10m", 600],
      ["2h", 7200],
      ["1d", 86_400],
      ["1w", 604_800],
      ["1h30m", 5400],
      ["1d12h", 129_600],
      ["2w3d4h5m6s", 2 * 604_800 + 3 * 86_400 + 4 * 3600 + 5 * 60 + 6],
      ["0m", 0],
    ];
    for (const [v, want] of cases) assert.equal(parseDuration(v), want, v);
    for (const bad of ["", "600", "m", "1.5h", "-1h", "30m1h", "1h 30m", "1H", "1y", "in 10m"]) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
    const written: [number, string][] = [
      [45, "45s"],
      [60, "1m"],
      [5400, "1h30m"],
      [86_400, "1d"],
      [93_784, "1d2h3m4s"],
      [1_209_600, "14d"],
      [0, "0s"],
    ];
    for (const [n, want] of written) {
      assert.equal(formatDuration(n), want, String(n));
      assert.equal(parseDuration(want), n, `${want} reads back`);
    }
  });

  it("reads remind's <when> time: an offset is required, seconds are added, the offset is kept", () => {
    assert.equal(parseAt("2026-12-05T09:00Z"), "2026-12-05T09:00:00Z");
    assert.equal(parseAt("2026-12-05 09:00:30+01:00"), "2026-12-05T09:00:30+01:00");
    assert.equal(parseAt("2026-12-05T09:00:30.25-05:30"), "2026-12-05T09:00:30.25-05:30");
    assert.equal(parseAt("2026-12-05T09:00"), "missing_offset");
    assert.equal(parseAt("2026-12-05 09:00:30"), "missing_offset");
    for (const bad of ["2026-12-05", "09:00Z", "tomorrow", "1795000000000", "2026-12-05T09Z"]) {
      assert.equal(parseAt(bad), undefined, bad);
    }
  });

  it("restart takes a name or --all; the rest is the dispatcher's to refuse", () => {
    assert.deepEqual(parseCommand(commands.restart, ["alice"]).positionals, ["alice"]);
    const all = parseCommand(commands.restart, ["--all"]);
    assert.deepEqual(all.positionals, []);
    assert.equal(all.values.all, true);
  });

  it("checks agent names and approval ids before anything is asked", () => {
    const kill = commands.kill;
    assert.equal(agentArgument(kill, "alice"), "alice");
    for (const [bad, why] of [
      ["Alice", "agent names are 1-9 chars"],
      ["a.b", "agent names are 1-9 chars"],
      ["*", "agent names are 1-9 chars"],
      ["averyverylongname", "agent names are 1-9 chars"],
      ["operator", "operator and system are reserved names"],
    ] as const) {
      assert.throws(
        () => agentArgument(kill, bad),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message.startsWith(`kill: ${JSON.stringify(bad)} is not an agent name (`) &&
          e.message.includes(why),
      );
    }
    const approve = commands.approve;
    assert.equal(idArgument(approve, "<id>", "7"), 7);
    for (const bad of ["0", "x", "1.5", "7e3", "", "99999999999999999999"]) {
      assert.throws(
        () => idArgument(approve, "<id>", bad),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message === `approve: <id> must be a whole number from 1, not ${JSON.stringify(bad)}`,
      );
    }
  });

  it("suggests the command a typo was meant to be", () => {
    assert.equal(closestCommand("sned"), "send");
    assert.equal(closestCommand("agent"), "agents");
    assert.equal(closestCommand("aprove"), "approve");
    assert.equal(closestCommand("new-sesion"), "new-session");
    assert.equal(closestCommand("frobnicate"), undefined);
  });
});

describe("hive on the command line (exit codes and output)", () => {
  it("names each mistake with the command's usage, exit 2; --json gives it as a wire error", async () => {
    const tmp = tempDir("hive-args-");
    try {
      const env = cleanEnv(tmp.path);
      const missing = await hive(["send", "manager", "--root", tmp.path], env);
      assert.equal(missing.code, 2);
      assert.equal(
        missing.stderr,
        "hive: send: missing <body>\nusage: hive send <to> <body> [--in-reply-to ID] [--root DIR] [--json]\n",
      );
      const typo = await hive(["sned", "manager", "hi"], env);
      assert.equal(typo.code, 2);
      assert.match(
        typo.stderr,
        /^hive: unknown command: sned \(did you mean send\?\)\ncommands: up, token, send, /,
      );
      const none = await hive([], env);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^hive: missing <command>\n/);
      const json = await hive(["up", "--port", "x", "--json"], env);
      assert.equal(json.code, 2);
      assert.deepEqual(JSON.parse(json.stdout), {
        error: {
          code: "bad_request",
          message: 'up: --port must be a whole number from 0 to 65535, not "x"',
          retryable: false,
        },
      });
      const url = await hive(["up", "--model-url", "localhost:8080", "--root", tmp.path], env);
      assert.equal(url.code, 2);
      assert.match(url.stderr, /^hive: up: --model-url must be an http\(s\) URL/);
      const both = await hive(["up", "--offline", "--model-url", "http://127.0.0.1:9"], env);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--offline and --model-url exclude each other/);
      const help = await hive(["send", "--help"], env);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^usage: hive send <to> <body>/);
      const all = await hive(["--help"], env);
      assert.equal(all.code, 0);
      for (const c of Object.keys(commands)) assert.match(all.stdout, new RegExp(`hive ${c}`));
      // Each group lists its commands under its title, in the catalog's order.
      const group = (title: string) =>
        [
          ...(all.stdout
            .split(`\n${title}:\n`)[1]
            ?.split("\n\n")[0]
            ?.matchAll(/^ {2}hive (\S+)/gm) ?? []),
        ].map((m) => m[1]);
      assert.deepEqual(group("mail"), ["send", "inbox", "history"]);
      assert.deepEqual(group("questions and open threads"), [
        "questions",
        "answer",
        "cancel-question",
        "threads",
      ]);
      assert.deepEqual(group("reminders"), [
        "reminders",
        "remind",
        "cancel-reminder",
        "retry-reminder",
      ]);
      const topic = await hive(["help", "answer"], env);
      assert.match(topic.stdout, /^usage: hive answer <id> \[<text>\] \[--option LABEL\]\.\.\./);
    } finally {
      tmp.remove();
    }
  });
});
