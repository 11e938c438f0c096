import {
  BaseEnv,
  connectNats,
  createLogger,
  isErrno,
  loadConfig,
  runService,
} from "@hyperhive/shared";
import { z } from "zod";
import { buildApp } from "./app.js";
import { FileToken, fixedToken, type TokenSource } from "./token.js";

/** The web's environment. */
const WebEnvFields = BaseEnv.extend({
  /** Address to listen on; loopback by default (the token is the only guard). */
  HIVE_WEB_HOST: z.string().min(1).default("127.0.0.1"),
  /** Port to listen on; 0 picks a free one (printed in the ready line). */
  HIVE_WEB_PORT: z.coerce.number().int().min(0).max(65535).default(7777),
  /** The operator token every page and API route requires (or use HIVE_WEB_TOKEN_FILE). */
  HIVE_WEB_TOKEN: z.string().min(1).optional(),
  /** A file holding the operator token, read again when it is replaced (`hive token --rotate`). */
  HIVE_WEB_TOKEN_FILE: z.string().min(1).optional(),
  NATS_USER: z.string().optional(),
  NATS_PASS: z.string().optional(),
});

/**
 * The environment, with where the operator token comes from as `token`: the file when
 * HIVE_WEB_TOKEN_FILE is set (HIVE_WEB_TOKEN, say inherited from a shell, is then ignored with
 * a warning), else HIVE_WEB_TOKEN; one of them is required.
 */
const WebEnv = WebEnvFields.transform((e, ctx) => {
  const { HIVE_WEB_TOKEN: value, HIVE_WEB_TOKEN_FILE: file } = e;
  if (file !== undefined) return { ...e, token: { from: "file" as const, file, ignored: value } };
  if (value !== undefined) return { ...e, token: { from: "env" as const, value } };
  ctx.addIssue({ code: "custom", message: "set HIVE_WEB_TOKEN_FILE or HIVE_WEB_TOKEN" });
  return z.NEVER;
});

/** Exit code when the port is taken: `hive up` tells the operator to pick another with --port. */
const EXIT_PORT_IN_USE = 3;

/** `listen` failed because another process has the address. */
class PortInUseError extends Error {
  override readonly name = "PortInUseError";
}

const isAddressInUse = (e: unknown) => isErrno(e, "EADDRINUSE");

async function main(): Promise<void> {
  const config = loadConfig(WebEnv);
  const log = createLogger("web", { level: config.HIVE_LOG_LEVEL });
  await runService({
    name: "web",
    log,
    forceExitMs: 10_000,
    async start(defer) {
      let tokens: TokenSource;
      if (config.token.from === "file") {
        if (config.token.ignored !== undefined) {
          log.warn("HIVE_WEB_TOKEN is ignored: the token comes from HIVE_WEB_TOKEN_FILE");
        }
        const file = FileToken.open(config.token.file, log);
        defer(() => file.close());
        tokens = file;
      } else {
        tokens = fixedToken(config.token.value);
      }
      if ((tokens.current()?.length ?? 0) < 16) log.warn("operator token is short; use 16+ chars");
      const nc = await connectNats({
        url: config.NATS_URL,
        name: "web",
        credsFile: config.NATS_CREDS,
        ...(config.NATS_USER ? { user: config.NATS_USER, pass: config.NATS_PASS ?? "" } : {}),
      });
      defer(() => nc.drain());
      const app = await buildApp({ nc, token: tokens, log });
      // Stopped before NATS is drained: closing HTTP ends the SSE streams.
      defer(() => app.close());
      const host = config.HIVE_WEB_HOST;
      try {
        await app.listen({ host, port: config.HIVE_WEB_PORT });
      } catch (e) {
        if (isAddressInUse(e)) {
          throw new PortInUseError(`web: port ${config.HIVE_WEB_PORT} on ${host} is in use`, {
            cause: e,
          });
        }
        throw e;
      }
      const addr = app.server.address();
      const port = typeof addr === "object" && addr ? addr.port : config.HIVE_WEB_PORT;
      return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}` };
    },
  });
}

main().catch((e: unknown) => {
  if (e instanceof PortInUseError) {
    // One plain line, no log record: `hive up` shows it as "port N is in use; use --port".
    process.stderr.write(`${e.message}\n`);
    process.exit(EXIT_PORT_IN_USE);
  }
  const log = createLogger("web");
  log.fatal({ err: e }, "web failed to start");
  process.exit(1);
});
