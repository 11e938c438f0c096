import {
  MAX_REMINDER_AHEAD_SECONDS,
  MIN_REMINDER_EVERY_SECONDS,
  type OperatorRemindersRequest,
  OperatorRemindRequest,
} from "@hyperhive/shared";
import {
  agentArgument,
  type CommandDef,
  EXIT,
  idArgument,
  intOption,
  onlyPositional,
  parseCommand,
  UsageError,
} from "./args.js";
import { commands } from "./catalog.js";
import type { Output } from "./output.js";
import { rootOf } from "./paths.js";
import { cancelReminder, remind, reminders, retryReminder } from "./reminders.js";
import { formatDuration, parseAt, parseDuration } from "./when.js";

/**
 * The reminder commands (`reminders`, `remind`, `cancel-reminder`, `retry-reminder`): each
 * command line checked whole, every mistake a UsageError before anything reaches the hive (the
 * request itself is then checked against its wire schema), then run.
 */

export const REMINDER_COMMANDS = [
  "reminders",
  "remind",
  "cancel-reminder",
  "retry-reminder",
] as const;
export type ReminderCommandName = (typeof REMINDER_COMMANDS)[number];

/** Whether `name` is one of {@link REMINDER_COMMANDS}. */
export function isReminderCommand(name: string): name is ReminderCommandName {
  return (REMINDER_COMMANDS as readonly string[]).includes(name);
}

/** What `<when>` takes, for a usage error. */
const WHEN_FORMS =
  "a duration (90s, 10m, 1h30m, 2d) or a time with its offset (2026-12-05T09:00Z, 2026-12-05T10:00:00+01:00)";

/** `<when>` as the wire takes it: a duration is `in_seconds`, a time with its offset `at`. */
function whenArgument(def: CommandDef, value: string): { in_seconds: number } | { at: string } {
  const seconds = parseDuration(value);
  if (seconds !== undefined) {
    if (seconds === 0)
      throw new UsageError(def, `<when> ${JSON.stringify(value)} is no time at all`);
    if (seconds > MAX_REMINDER_AHEAD_SECONDS) throw new UsageError(def, `<when> ${beyond(value)}`);
    return { in_seconds: seconds };
  }
  const at = parseAt(value);
  if (at === "missing_offset") {
    throw new UsageError(
      def,
      `<when> ${JSON.stringify(value)} needs its offset: Z for UTC (${value}Z), or like +01:00`,
    );
  }
  if (at === undefined) {
    throw new UsageError(def, `<when> must be ${WHEN_FORMS}; not ${JSON.stringify(value)}`);
  }
  // The wire's own check: it also knows that 2026-02-30 does not exist.
  if (!OperatorRemindRequest.shape.at.unwrap().safeParse(at).success) {
    throw new UsageError(def, `<when> ${JSON.stringify(value)} is not a time that exists`);
  }
  return { at };
}

/** `--every DURATION` in seconds: a duration of at least a minute. */
function everyOption(def: CommandDef, value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new UsageError(
      def,
      `--every must be a duration (1m, 1h30m, 1d); not ${JSON.stringify(value)}`,
    );
  }
  if (seconds < MIN_REMINDER_EVERY_SECONDS) {
    const least = formatDuration(MIN_REMINDER_EVERY_SECONDS);
    throw new UsageError(
      def,
      `--every must be at least ${least} (a repeating reminder's shortest period), not ${JSON.stringify(value)}`,
    );
  }
  if (seconds > MAX_REMINDER_AHEAD_SECONDS) throw new UsageError(def, `--every ${beyond(value)}`);
  return seconds;
}

/** A duration past the longest the scheduler takes (a year), said so. */
function beyond(value: string): string {
  return `${JSON.stringify(value)} is longer than a year (${formatDuration(MAX_REMINDER_AHEAD_SECONDS)}), the most the scheduler takes`;
}

/** Runs one of {@link REMINDER_COMMANDS} with its own arguments; resolves with the exit code. */
export async function runReminderCommand(
  name: ReminderCommandName,
  rest: string[],
  out: Output,
): Promise<number> {
  switch (name) {
    case "reminders": {
      const def = commands.reminders;
      const { values } = parseCommand(def, rest);
      const req: OperatorRemindersRequest = {};
      if (values.agent !== undefined) req.agent = agentArgument(def, values.agent);
      if (values.all === true) req.all = true;
      if (values.limit !== undefined) {
        req.limit = intOption(def, "limit", values.limit, 200, { min: 1, max: 1000 });
      }
      await reminders(rootOf(values.root), req, out);
      return EXIT.ok;
    }
    case "remind": {
      const def = commands.remind;
      const { values, positionals } = parseCommand(def, rest);
      const [agent = "", when = "", body = ""] = positionals;
      const req: OperatorRemindRequest = {
        agent: agentArgument(def, agent),
        body,
        ...whenArgument(def, when),
      };
      if (values.every !== undefined) req.every_seconds = everyOption(def, values.every);
      await remind(rootOf(values.root), req, out);
      return EXIT.ok;
    }
    case "cancel-reminder":
    case "retry-reminder": {
      const def = commands[name];
      const { values, positionals } = parseCommand(def, rest);
      const id = idArgument(def, "<id>", onlyPositional(def, positionals));
      const verb = name === "cancel-reminder" ? cancelReminder : retryReminder;
      await verb(rootOf(values.root), id, out);
      return EXIT.ok;
    }
  }
}
