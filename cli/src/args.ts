import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * The command line: one definition per command (its arguments, options and usage line), parsed
 * with node's `util.parseArgs`. Every mistake is a UsageError that names what is wrong
 * ("send: missing <body>", "up: unknown option --prot") and carries that command's usage.
 */

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;
/** The typed values of a strict parse with `options` O. */
type Values<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>
>["values"];

const COMMON = {
  root: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface CommandDef<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly name: string;
  /** Placeholders of the positional arguments, all required: `["<agent>", "<body>"]`. */
  readonly positionals: readonly string[];
  readonly options: O;
  readonly usage: string;
  readonly summary: string;
}

function command<const O extends ParseArgsOptionsConfig>(
  def: CommandDef<O>,
): CommandDef<O & typeof COMMON> {
  return { ...def, options: { ...def.options, ...COMMON } };
}

export const commands = {
  up: command({
    name: "up",
    positionals: [],
    options: {
      offline: { type: "boolean" },
      "model-url": { type: "string" },
      port: { type: "string" },
    },
    usage: "hive up [--offline | --model-url URL] [--port N] [--root DIR] [--json]",
    summary: "run a hive in the foreground (Ctrl-C stops it)",
  }),
  send: command({
    name: "send",
    positionals: ["<agent>", "<body>"],
    options: {},
    usage: "hive send <agent> <body> [--root DIR] [--json]",
    summary: "send a message as the operator",
  }),
  inbox: command({
    name: "inbox",
    positionals: [],
    options: { limit: { type: "string" } },
    usage: "hive inbox [--limit N] [--root DIR] [--json]",
    summary: "the operator's inbox, newest first",
  }),
  agents: command({
    name: "agents",
    positionals: [],
    options: {},
    usage: "hive agents [--root DIR] [--json]",
    summary: "agents with their states",
  }),
  token: command({
    name: "token",
    positionals: [],
    options: { rotate: { type: "boolean" } },
    usage: "hive token [--rotate] [--root DIR] [--json]",
    summary: "print the operator token; --rotate makes a new one",
  }),
} as const;
export type CommandName = keyof typeof commands;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commands, name);
}

/** The whole usage text. */
export function usage(): string {
  const defs: CommandDef[] = Object.values(commands);
  return [
    "usage: hive <command> [options]",
    "",
    ...defs.map((d) => `  ${d.usage}\n      ${d.summary}`),
    "",
    "  --root DIR   hive root (default $HIVE_ROOT or ~/.hyperhive)",
    "  --json       output as JSON, one value per line (errors too)",
    "  -h, --help   usage (of a command: hive <command> --help)",
  ].join("\n");
}

/** A command line that cannot be run as given (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The command it is about (undefined: no command, or an unknown one). */
  readonly command: CommandDef | undefined;
  constructor(command: CommandDef | undefined, problem: string) {
    super(command ? `${command.name}: ${problem}` : problem);
    this.command = command;
  }
}

/** Splits argv into the command and its own arguments; options before it are kept. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  const all: ParseArgsOptionsConfig = {};
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

/** Whether the arguments ask for the command's usage (`-h`, `--help`). */
export function wantsHelp(def: CommandDef, args: string[]): boolean {
  const { values } = parseArgs({
    args,
    options: def.options,
    strict: false,
    allowPositionals: true,
  });
  return values.help === true;
}

/**
 * Parses one command's arguments. Checks every token first, so a mistake is named ("unknown
 * option --prot", "--port needs a value", "missing <body>", "unexpected argument \"x\""), then
 * parses strictly for the typed values.
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(
  def: CommandDef<O>,
  args: string[],
): { values: Values<O>; positionals: string[] } {
  const { tokens } = parseArgs({
    args,
    options: def.options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") positionals.push(t.value);
    if (t.kind !== "option") continue;
    const spec = def.options[t.name];
    if (!spec) {
      const hint = def.positionals.length > 0 ? " (an argument starting with - goes after --)" : "";
      throw new UsageError(def, `unknown option ${t.rawName}${hint}`);
    }
    const value = t.value;
    if (
      spec.type === "string" &&
      (value === undefined || (!t.inlineValue && value.startsWith("-")))
    ) {
      throw new UsageError(def, `${t.rawName} needs a value`);
    }
    if (spec.type === "boolean" && value !== undefined) {
      throw new UsageError(def, `${t.rawName} takes no value`);
    }
  }
  if (positionals.length < def.positionals.length) {
    throw new UsageError(def, `missing ${def.positionals[positionals.length]}`);
  }
  if (positionals.length > def.positionals.length) {
    const extra = positionals[def.positionals.length];
    throw new UsageError(def, `unexpected argument ${JSON.stringify(extra)}`);
  }
  const { values } = parseArgs({
    args,
    options: def.options,
    strict: true,
    allowPositionals: true,
  });
  return { values, positionals };
}

/** An integer option in `min..max`, or `dflt` when absent. */
export function intOption(
  def: CommandDef,
  name: string,
  value: string | undefined,
  dflt: number,
  range: { min: number; max: number },
): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(
      def,
      `--${name} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}
