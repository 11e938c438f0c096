import { BaseEnv, connectNats, createLogger, loadConfig, runService } from "@hyperhive/shared";
import { z } from "zod";
import { buildApp } from "./app.js";

/** The web's environment. */
const WebEnv = BaseEnv.extend({
  /** Address to listen on; loopback by default (the token is the only guard). */
  HIVE_WEB_HOST: z.string().min(1).default("127.0.0.1"),
  /** Port to listen on; 0 picks a free one (printed in the ready line). */
  HIVE_WEB_PORT: z.coerce.number().int().min(0).max(65535).default(7777),
  /** The operator token every page and API route requires. */
  HIVE_WEB_TOKEN: z.string().min(1, "HIVE_WEB_TOKEN is required"),
  NATS_USER: z.string().optional(),
  NATS_PASS: z.string().optional(),
});

async function main(): Promise<void> {
  const config = loadConfig(WebEnv);
  const log = createLogger("web", { level: config.HIVE_LOG_LEVEL });
  if (config.HIVE_WEB_TOKEN.length < 16) log.warn("HIVE_WEB_TOKEN is short; use 16+ random chars");
  await runService({
    name: "web",
    log,
    forceExitMs: 10_000,
    async start(defer) {
      const nc = await connectNats({
        url: config.NATS_URL,
        name: "web",
        ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS ?? "" } : {}),
      });
      defer(() => nc.drain());
      const app = buildApp({ nc, token: config.HIVE_WEB_TOKEN, log });
      // Stopped before NATS is drained: closing HTTP ends the SSE streams.
      defer(() => app.close());
      await app.listen({ host: config.HIVE_WEB_HOST, port: config.HIVE_WEB_PORT });
      const addr = app.server.address();
      const port = typeof addr === "object" && addr ? addr.port : config.HIVE_WEB_PORT;
      const host = config.HIVE_WEB_HOST.includes(":")
        ? `[${config.HIVE_WEB_HOST}]`
        : config.HIVE_WEB_HOST;
      return { url: `http://${host}:${port}` };
    },
  });
}

main().catch((e: unknown) => {
  const log = createLogger("web");
  log.fatal({ err: e }, "web failed to start");
  process.exit(1);
});
