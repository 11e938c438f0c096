import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultHiveRoot, describeZodError, HiveError } from "@hyperhive/shared";
import { ZodError } from "zod";
import { agents, inbox, send } from "./commands.js";
import { CliError } from "./runtime.js";
import { up } from "./up.js";

const USAGE = `usage: hive <command> [options]

  up [--offline] [--model-url URL] [--port N]   run a hive in the foreground (Ctrl-C stops it)
  send <agent> <body> [--json]                  send a message as the operator
  inbox [--json] [--limit N]                    the operator's inbox, newest first
  agents [--json]                               agents with their states

common options:
  --root DIR   hive root (default $HIVE_ROOT or ~/.hyperhive)
  -h, --help   this text`;

const OPTIONS = {
  root: { type: "string" },
  offline: { type: "boolean", default: false },
  "model-url": { type: "string" },
  port: { type: "string" },
  json: { type: "boolean", default: false },
  limit: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

class UsageError extends Error {
  override readonly name = "UsageError";
}

function int(value: string | undefined, dflt: number, what: string): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be a non-negative integer`);
  return n;
}

function isHttpUrl(s: string): boolean {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
}

let exitWhenDone = false;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const root = resolve(values.root ?? defaultHiveRoot());
  const none = (n: number) => {
    if (rest.length !== n) throw new UsageError(`${command}: expected ${n} argument(s)`);
  };
  switch (command) {
    case "up": {
      none(0);
      const port = int(values.port, 7777, "--port");
      if (port > 65535) throw new UsageError("--port must be at most 65535");
      const modelUrl = values["model-url"];
      if (modelUrl !== undefined) {
        if (values.offline) {
          throw new UsageError("--offline and --model-url exclude each other: pick one model");
        }
        if (!isHttpUrl(modelUrl)) {
          throw new UsageError(
            `--model-url must be an http(s) URL, not ${JSON.stringify(modelUrl)}`,
          );
        }
      }
      // Exit explicitly when done: stopped services' pipes must not keep us waiting.
      exitWhenDone = true;
      return up({
        root,
        offline: values.offline,
        port,
        ...(modelUrl ? { modelUrl } : {}),
      });
    }
    case "send": {
      none(2);
      await send(root, rest[0]!, rest[1]!, values.json);
      return 0;
    }
    case "inbox":
      none(0);
      await inbox(root, values.json, int(values.limit, 50, "--limit"));
      return 0;
    case "agents":
      none(0);
      await agents(root, values.json);
      return 0;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
  if (exitWhenDone) process.exit();
} catch (e) {
  if (e instanceof UsageError || (e instanceof TypeError && "code" in e)) {
    console.error(`hive: ${e.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof CliError || e instanceof HiveError) {
    console.error(`hive: ${e.message}`);
    process.exitCode = 1;
  } else if (e instanceof ZodError) {
    console.error(`hive: invalid arguments: ${describeZodError(e)}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
