#!/usr/bin/env node
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentRole, ConfigError, createLogger, toWireError } from "@hyperhive/shared";
import { socketPathFor } from "./config.js";
import { runMcpStdio } from "./mcp.js";
import { serveMain } from "./serve.js";
import { parseWakeArgs, sendWake } from "./wake.js";

const HARNESS_MAIN = fileURLToPath(import.meta.url);

function wakeSocketPath(): string {
  if (process.env.HIVE_SOCKET) return process.env.HIVE_SOCKET;
  if (process.env.HIVE_RUN_DIR) return socketPathFor(process.env.HIVE_RUN_DIR);
  throw new ConfigError("set HIVE_SOCKET or HIVE_RUN_DIR");
}

async function main(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "serve":
      await serveMain(HARNESS_MAIN);
      return undefined;
    case "mcp": {
      const socket = process.env.HIVE_SOCKET;
      if (!socket) throw new ConfigError("invalid configuration: HIVE_SOCKET is required");
      const role = AgentRole.safeParse(process.env.HIVE_ROLE ?? "agent");
      if (!role.success)
        throw new ConfigError("invalid configuration: HIVE_ROLE is agent or manager");
      await runMcpStdio(socket, role.data);
      return 0;
    }
    case "wake": {
      const args = parseWakeArgs(rest);
      try {
        const result = await sendWake(wakeSocketPath(), args);
        process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
        return 0;
      } catch (e) {
        process.stdout.write(`${JSON.stringify({ ok: false, error: toWireError(e) })}\n`);
        return 1;
      }
    }
    default:
      process.stderr.write(
        `usage: ${join("harness", "main.js")} serve | mcp | wake --from <label> --body <text|->\n`,
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (e: unknown) => {
    createLogger("harness").fatal({ err: e }, e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
