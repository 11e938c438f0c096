import { type ParseArgsConfig, parseArgs } from "node:util";
import { AgentName, BROADCAST, OPERATOR, type Recipient, type SendTarget } from "@hyperhive/shared";
import type { z } from "zod";

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

/** Which part of the usage text a command is listed in. */
export type CommandGroup =
  | "hive"
  | "mail"
  | "agents"
  | "approvals"
  | "questions"
  | "reminders"
  | "turns";

export interface CommandDef<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly name: string;
  /** Placeholders of the positional arguments: `["<agent>", "<body>"]`. */
  readonly positionals: readonly string[];
  /** How many of the trailing positionals may be left out (default none). */
  readonly optional?: number;
  readonly options: O;
  readonly usage: string;
  readonly summary: string;
  readonly group: CommandGroup;
}

/** A command definition with the options every command takes (`--root`, `--json`, `--help`). */
export function command<const O extends ParseArgsOptionsConfig>(
  def: CommandDef<O>,
): CommandDef<O & typeof COMMON> {
  return { ...def, options: { ...def.options, ...COMMON } };
}

/** Exit codes: 0 done, 1 failed, 2 the command line is wrong (a {@link UsageError}). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

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
  const required = def.positionals.length - (def.optional ?? 0);
  if (positionals.length < required) {
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

/** The one positional of a command that takes exactly one (parseCommand has counted them). */
export function onlyPositional(def: CommandDef, positionals: string[]): string {
  const [first] = positionals;
  if (first === undefined) throw new UsageError(def, `missing ${def.positionals[0]}`);
  return first;
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

/**
 * Checks a positional against a schema of the wire contract, so a value the hive would refuse is
 * named here and never reaches NATS: `kill: "Bob" is not an agent name (agent names are ...)`.
 */
export function checkedArgument<T>(
  def: CommandDef,
  what: string,
  schema: z.ZodType<T>,
  value: string,
): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const why = r.error.issues.map((i) => i.message).join("; ");
  throw new UsageError(def, `${JSON.stringify(value)} is not ${what} (${why})`);
}

/** An agent's name as a positional (it becomes a subject token: checked before any request). */
export function agentArgument(def: CommandDef, value: string): AgentName {
  return checkedArgument(def, "an agent name", AgentName, value);
}

/** Who an option names, an agent or `operator` (`hive history --agent`). */
export function recipientArgument(def: CommandDef, value: string): Recipient {
  return value === OPERATOR ? OPERATOR : agentArgument(def, value);
}

/** Where `hive send` sends: an agent, `operator` (the broker says why not), or `*`: every agent. */
export function sendTargetArgument(def: CommandDef, value: string): SendTarget {
  if (value === BROADCAST || value === OPERATOR) return value;
  return checkedArgument(def, "an agent name or '*'", AgentName, value);
}

/** A number the hive gave out (approval, question, message) as an argument: a whole number from 1. */
export function idArgument(def: CommandDef, placeholder: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      def,
      `${placeholder} must be a whole number from 1, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}
