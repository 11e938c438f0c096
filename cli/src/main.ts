import { describeZodError, ErrorCode } from "@hyperhive/shared";
import { ZodError } from "zod";
import { type CommandDef, EXIT, UsageError, wantsHelp } from "./args.js";
import { closestCommand, commands, isCommand, splitCommand, usage } from "./catalog.js";
import { runCommand } from "./dispatch.js";
import { Output } from "./output.js";

/** Runs one command; resolves with its exit code. Failures and usage errors are thrown. */
async function run(argv: string[], out: Output): Promise<number> {
  const { name, rest } = splitCommand(argv);
  if (name === undefined) {
    if (argv.includes("--help") || argv.includes("-h")) {
      console.log(usage());
      return EXIT.ok;
    }
    throw new UsageError(undefined, "missing <command>");
  }
  if (name === "help") {
    const topic = rest.find((a) => !a.startsWith("-"));
    console.log(topic !== undefined && isCommand(topic) ? commandHelp(commands[topic]) : usage());
    return EXIT.ok;
  }
  if (!isCommand(name)) {
    const hint = closestCommand(name);
    throw new UsageError(
      undefined,
      `unknown command: ${name}${hint ? ` (did you mean ${hint}?)` : ""}`,
    );
  }
  const def: CommandDef = commands[name];
  if (wantsHelp(def, rest)) {
    console.log(commandHelp(def));
    return EXIT.ok;
  }
  try {
    return await runCommand(name, rest, out);
  } catch (e) {
    // A payload our own schemas refuse (a bad agent name) is a mistake in the arguments.
    if (e instanceof ZodError)
      throw new UsageError(def, `invalid arguments: ${describeZodError(e)}`);
    throw e;
  }
}

function commandHelp(def: CommandDef): string {
  return `usage: ${def.usage}\n  ${def.summary}`;
}

/** The usage error as the operator sees it: what is wrong, then how the command is used. */
function reportUsage(e: UsageError, out: Output): void {
  if (out.jsonMode) {
    out.json({ error: { code: ErrorCode.BadRequest, message: e.message, retryable: false } });
    return;
  }
  const how = e.command
    ? `usage: ${e.command.usage}`
    : `commands: ${Object.keys(commands).join(", ")} (hive --help for more)`;
  out.say(`hive: ${e.message}\n${how}`);
}

const argv = process.argv.slice(2);
const out = new Output(argv.includes("--json"));
let code: number;
try {
  code = await run(argv, out);
} catch (e) {
  if (e instanceof UsageError) {
    reportUsage(e, out);
    code = EXIT.usage;
  } else {
    out.fail(e);
    code = EXIT.failed;
  }
}
// Exit explicitly: pipes of stopped services, or a NATS socket, must not keep us waiting.
process.exit(code);
