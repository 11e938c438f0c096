import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger, runService } from "@hyperhive/shared";
import { startModelServer } from "./server.js";

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
  const log = createLogger("model-server");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}`);
  }
  const script =
    values.script === undefined
      ? undefined
      : (JSON.parse(readFileSync(values.script, "utf8")) as unknown);
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
