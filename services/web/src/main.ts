import { BaseEnv, connectNats, createLogger, loadConfig } from "@hyperhive/shared";
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
  const nc = await connectNats({
    url: config.NATS_URL,
    name: "web",
    ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS ?? "" } : {}),
  });
  const app = buildApp({ nc, token: config.HIVE_WEB_TOKEN, log });
  await app.listen({ host: config.HIVE_WEB_HOST, port: config.HIVE_WEB_PORT });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.HIVE_WEB_PORT;
  const host = config.HIVE_WEB_HOST.includes(":")
    ? `[${config.HIVE_WEB_HOST}]`
    : config.HIVE_WEB_HOST;
  process.stdout.write(`${JSON.stringify({ ready: "web", url: `http://${host}:${port}` })}\n`);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, "stopping");
      // Reverse order of start: stop HTTP (ends SSE streams), then drain NATS.
      await app.close();
      await nc.drain();
      process.exit(0);
    })();
    return stopping;
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

main().catch((e: unknown) => {
  const log = createLogger("web");
  log.fatal({ err: e }, "web failed to start");
  process.exit(1);
});
