import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger, describeZodError, runService } from "@hyperhive/shared";
import { type Rule, Script } from "./script.js";
import { startModelServer } from "./server.js";

/** A command line the server refuses to start with; said in one line on stderr, exit 1. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The rules of a `--script` file; a file that is not JSON or not a script is a UsageError. */
function readScript(file: string): Rule[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`--script ${file}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  const r = Script.safeParse(raw);
  if (!r.success) throw new UsageError(`--script ${file}: ${describeZodError(r.error)}`);
  return r.data;
}

/**
 * `node dist/src/main.js [--port N] [--host H] [--script FILE]`: runs the scripted model server
 * until SIGTERM/SIGINT. Prints `{"ready":"model-server","url":...}` on stdout when listening.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      script: { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer 0..65535, got ${values.port}`);
  }
  const script = values.script === undefined ? undefined : readScript(values.script);
  const log = createLogger("model-server");
  await runService({
    name: "model-server",
    log,
    forceExitMs: 10_000,
    async start(defer) {
      const server = await startModelServer({ port, host: values.host, script, log });
      defer(() => server.close());
      return { url: server.url };
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`model-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
