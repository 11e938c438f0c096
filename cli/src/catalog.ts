import { type ParseArgsConfig, parseArgs } from "node:util";
import { type CommandDef, type CommandGroup, command } from "./args.js";

/**
 * Every `hive` command: its arguments, options, usage line and summary. The parsing is args.ts;
 * what each command does is dispatch.ts.
 */

const AGENT_VERB = (name: string, summary: string) =>
  command({
    name,
    positionals: ["<agent>"],
    options: {},
    usage: `hive ${name} <agent> [--root DIR] [--json]`,
    summary,
    group: "turns",
  });

export const commands = {
  up: command({
    name: "up",
    positionals: [],
    options: {
      offline: { type: "boolean" },
      "model-url": { type: "string" },
      port: { type: "string" },
      "rotate-keys": { type: "boolean" },
    },
    usage: "hive up [--offline | --model-url URL] [--port N] [--rotate-keys] [--root DIR] [--json]",
    summary: "run a hive in the foreground (Ctrl-C stops it)",
    group: "hive",
  }),
  token: command({
    name: "token",
    positionals: [],
    options: { rotate: { type: "boolean" } },
    usage: "hive token [--rotate] [--root DIR] [--json]",
    summary: "print the operator token; --rotate makes a new one",
    group: "hive",
  }),
  send: command({
    name: "send",
    positionals: ["<to>", "<body>"],
    options: { "in-reply-to": { type: "string" } },
    usage: "hive send <to> <body> [--in-reply-to ID] [--root DIR] [--json]",
    summary:
      "send a message as the operator: <to> is an agent, or '*' for every agent (quoted); --in-reply-to: the message it answers",
    group: "mail",
  }),
  inbox: command({
    name: "inbox",
    positionals: [],
    options: { limit: { type: "string" } },
    usage: "hive inbox [--limit N] [--root DIR] [--json]",
    summary: "the operator's inbox, newest first",
    group: "mail",
  }),
  history: command({
    name: "history",
    positionals: [],
    options: {
      agent: { type: "string" },
      thread: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string" },
      before: { type: "string" },
    },
    usage:
      "hive history [--agent NAME] [--thread ID] [--since TIME] [--until TIME] [--limit N] [--before ID] [--root DIR] [--json]",
    summary:
      "stored messages and each one's delivery (queued, leased, acked, redelivered), newest first (TIME: 15m, 2h, 7d, 2026-11-22[T10:00] UTC, unix ms)",
    group: "mail",
  }),
  agents: command({
    name: "agents",
    positionals: [],
    options: { all: { type: "boolean" } },
    usage: "hive agents [--all] [--root DIR] [--json]",
    summary: "agents with their models and states; --all lists tombstones too",
    group: "agents",
  }),
  kill: command({
    name: "kill",
    positionals: ["<name>"],
    options: {},
    usage: "hive kill <name> [--root DIR] [--json]",
    summary: "stop an agent; it stays stopped until started",
    group: "agents",
  }),
  start: command({
    name: "start",
    positionals: ["<name>"],
    options: {},
    usage: "hive start <name> [--root DIR] [--json]",
    summary: "start a stopped agent",
    group: "agents",
  }),
  restart: command({
    name: "restart",
    positionals: ["<name>"],
    optional: 1,
    options: { all: { type: "boolean" } },
    usage: "hive restart (<name> | --all) [--root DIR] [--json]",
    summary: "restart an agent; --all: the manager first, once idle the others",
    group: "agents",
  }),
  destroy: command({
    name: "destroy",
    positionals: ["<name>"],
    options: {},
    usage: "hive destroy <name> [--root DIR] [--json]",
    summary: "stop a sub-agent for good: a tombstone, its state dir kept",
    group: "agents",
  }),
  purge: command({
    name: "purge",
    positionals: ["<name>"],
    options: { yes: { type: "boolean" } },
    usage: "hive purge <name> [--yes] [--root DIR] [--json]",
    summary: "delete a tombstone's state dir and free its name (asks to type it; --yes: don't)",
    group: "agents",
  }),
  approvals: command({
    name: "approvals",
    positionals: [],
    options: { all: { type: "boolean" }, diff: { type: "boolean" } },
    usage: "hive approvals [--all] [--diff] [--root DIR] [--json]",
    summary: "pending approvals (--all: decided ones too; --diff: config diffs)",
    group: "approvals",
  }),
  approve: command({
    name: "approve",
    positionals: ["<id>"],
    options: {},
    usage: "hive approve <id> [--root DIR] [--json]",
    summary: "approve a pending spawn or config change",
    group: "approvals",
  }),
  deny: command({
    name: "deny",
    positionals: ["<id>"],
    options: { reason: { type: "string" } },
    usage: "hive deny <id> [--reason TEXT] [--root DIR] [--json]",
    summary: "deny it; the reason is told to whoever asked",
    group: "approvals",
  }),
  questions: command({
    name: "questions",
    positionals: [],
    options: { all: { type: "boolean" } },
    usage: "hive questions [--all] [--root DIR] [--json]",
    summary:
      "open questions put to you (--all: closed ones and agents' questions to each other too)",
    group: "questions",
  }),
  answer: command({
    name: "answer",
    positionals: ["<id>", "<text>"],
    optional: 1,
    options: { option: { type: "string", multiple: true } },
    usage: "hive answer <id> [<text>] [--option LABEL]... [--root DIR] [--json]",
    summary:
      "answer a question with text, its options (repeat --option when it takes several), or both",
    group: "questions",
  }),
  "cancel-question": command({
    name: "cancel-question",
    positionals: ["<id>"],
    options: {},
    usage: "hive cancel-question <id> [--root DIR] [--json]",
    summary: "cancel an open question; its asker is told [cancelled]",
    group: "questions",
  }),
  threads: command({
    name: "threads",
    positionals: ["<agent>"],
    optional: 1,
    options: {},
    usage: "hive threads [<agent>] [--root DIR] [--json]",
    summary: "what is still pending: approvals and questions, of one agent or the whole hive",
    group: "questions",
  }),
  reminders: command({
    name: "reminders",
    positionals: [],
    options: { agent: { type: "string" }, all: { type: "boolean" }, limit: { type: "string" } },
    usage: "hive reminders [--agent NAME] [--all] [--limit N] [--root DIR] [--json]",
    summary:
      "pending reminders, soonest first, failing ones marked (--all: delivered and cancelled too)",
    group: "reminders",
  }),
  remind: command({
    name: "remind",
    positionals: ["<agent>", "<when>", "<body>"],
    options: { every: { type: "string" } },
    usage: "hive remind <agent> <when> <body> [--every DURATION] [--root DIR] [--json]",
    summary:
      "set a reminder for an agent: <when> is a duration (10m, 1h30m, 2d) or a time with its offset (2026-12-05T09:00Z); --every repeats it (at least 1m)",
    group: "reminders",
  }),
  "cancel-reminder": command({
    name: "cancel-reminder",
    positionals: ["<id>"],
    options: {},
    usage: "hive cancel-reminder <id> [--root DIR] [--json]",
    summary: "cancel a pending reminder (a repeating one: every later occurrence)",
    group: "reminders",
  }),
  "retry-reminder": command({
    name: "retry-reminder",
    positionals: ["<id>"],
    options: {},
    usage: "hive retry-reminder <id> [--root DIR] [--json]",
    summary: "try a reminder whose delivery is failing again now",
    group: "reminders",
  }),
  files: command({
    name: "files",
    positionals: ["<agent>", "<path>"],
    optional: 1,
    options: {},
    usage: "hive files <agent> [<path>] [--root DIR] [--json]",
    summary:
      "list a directory of the agent's state dir, or print a file (read by c0re: world-readable files only, no symlinks)",
    group: "agents",
  }),
  shared: command({
    name: "shared",
    positionals: ["<path>"],
    optional: 1,
    options: {},
    usage: "hive shared [<path>] [--root DIR] [--json]",
    summary:
      "list the hive's shared dir (where agents leave files for each other) or a directory of it, or print a file (read by c0re)",
    group: "agents",
  }),
  logs: command({
    name: "logs",
    positionals: ["<agent>"],
    options: { lines: { type: "string" }, follow: { type: "boolean", short: "f" } },
    usage: "hive logs <agent> [--lines N] [--follow] [--root DIR] [--json]",
    summary:
      "the last lines of the agent's harness log (default 50); --follow: then each line it writes, until ^C",
    group: "agents",
  }),
  model: command({
    name: "model",
    positionals: ["<agent>", "<model>"],
    options: {},
    usage: "hive model <agent> <model> [--root DIR] [--json]",
    summary: "the model an agent's next turns use (kept until its config changes)",
    group: "turns",
  }),
  compact: AGENT_VERB("compact", "compact an idle agent's session now"),
  "new-session": AGENT_VERB("new-session", "the agent's next turn starts a fresh session"),
  cancel: AGENT_VERB("cancel", "kill the agent's running turn (its message is retried)"),
} as const;
export type CommandName = keyof typeof commands;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

const GROUPS: Record<CommandGroup, string> = {
  hive: "the hive",
  mail: "mail",
  agents: "agents",
  approvals: "approvals",
  questions: "questions and open threads",
  reminders: "reminders",
  turns: "an agent's turns",
};

/** The whole usage text, by group. */
export function usage(): string {
  const defs: CommandDef[] = Object.values(commands);
  const groups = Object.entries(GROUPS).flatMap(([group, title]) => [
    `${title}:`,
    ...defs.filter((d) => d.group === group).map((d) => `  ${d.usage}\n      ${d.summary}`),
    "",
  ]);
  return [
    "usage: hive <command> [options]",
    "",
    ...groups,
    "  --root DIR   hive root (default $HIVE_ROOT or ~/.hyperhive)",
    "  --json       output as JSON, one value per line (errors too)",
    "  -h, --help   usage (of a command: hive <command> --help)",
  ].join("\n");
}

/** Splits argv into the command and its own arguments; options before it are kept. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  const all: NonNullable<ParseArgsConfig["options"]> = {};
  for (const def of Object.values(commands)) Object.assign(all, def.options);
  const { tokens } = parseArgs({
    args: argv,
    options: all,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((t) => t.kind === "positional");
  if (!first) return { name: undefined, rest: argv };
  return { name: first.value, rest: argv.filter((_, i) => i !== first.index) };
}

/** The closest command name, for "did you mean": at most two edits away. */
export function closestCommand(name: string): CommandName | undefined {
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
      }
      prev = row;
    }
    return prev[b.length]!;
  };
  const names = Object.keys(commands).filter(isCommand);
  const best = names.map((n) => ({ n, d: distance(name, n) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.n : undefined;
}
