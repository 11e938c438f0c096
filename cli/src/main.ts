import { resolve } from "node:path";
import { defaultHiveRoot, describeZodError, ErrorCode } from "@hyperhive/shared";
import { ZodError } from "zod";
import {
  type CommandDef,
  closestCommand,
  commands,
  intOption,
  isCommand,
  parseCommand,
  splitCommand,
  UsageError,
  usage,
  wantsHelp,
} from "./args.js";
import { agents, inbox, send, token } from "./commands.js";
import { Output } from "./output.js";
import { up } from "./up.js";

/** Exit codes: 0 done, 1 failed, 2 the command line is wrong. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function isHttpUrl(s: string): boolean {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
}

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

async function runCommand(
  name: keyof typeof commands,
  rest: string[],
  out: Output,
): Promise<number> {
  const rootOf = (root: string | undefined) => resolve(root ?? defaultHiveRoot());
  switch (name) {
    case "up": {
      const def = commands.up;
      const { values } = parseCommand(def, rest);
      const port = intOption(def, "port", values.port, 7777, { min: 0, max: 65535 });
      const modelUrl = values["model-url"];
      if (modelUrl !== undefined) {
        if (values.offline) {
          throw new UsageError(def, "--offline and --model-url exclude each other: pick one model");
        }
        if (!isHttpUrl(modelUrl)) {
          throw new UsageError(
            def,
            `--model-url must be an http(s) URL, not ${JSON.stringify(modelUrl)}`,
          );
        }
      }
      const root = rootOf(values.root);
      return up(
        { root, offline: values.offline === true, port, ...(modelUrl ? { modelUrl } : {}) },
        out,
      );
    }
    case "send": {
      const { values, positionals } = parseCommand(commands.send, rest);
      const [to, body] = positionals;
      if (to === undefined || body === undefined)
        throw new UsageError(commands.send, "missing <agent> or <body>");
      await send(rootOf(values.root), to, body, out);
      return EXIT.ok;
    }
    case "inbox": {
      const { values } = parseCommand(commands.inbox, rest);
      const limit = intOption(commands.inbox, "limit", values.limit, 50, { min: 1, max: 500 });
      await inbox(rootOf(values.root), limit, out);
      return EXIT.ok;
    }
    case "agents": {
      const { values } = parseCommand(commands.agents, rest);
      await agents(rootOf(values.root), out);
      return EXIT.ok;
    }
    case "token": {
      const { values } = parseCommand(commands.token, rest);
      token(rootOf(values.root), values.rotate === true, out);
      return EXIT.ok;
    }
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
