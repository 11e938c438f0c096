import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { describeZodError } from "./errors.js";

/** A configuration problem found at start-up: names every bad or missing variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Reads a service's configuration from environment variables with a zod object schema whose keys
 * are the variable names. Fails with one ConfigError listing everything wrong.
 */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${describeZodError(parsed.error)}`);
  }
  return parsed.data;
}

/** Default hive root: `$HIVE_ROOT`, else `~/.hyperhive`. */
export function defaultHiveRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HIVE_ROOT ?? join(homedir(), ".hyperhive"));
}

/** The common variables every service reads. */
export const BaseEnv = z.object({
  /** NATS server URL(s), comma-separated. */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** This process's NATS credentials (a `.creds` file); none for a server without auth. */
  NATS_CREDS: z.string().min(1).optional(),
  /** The hive's root directory. */
  HIVE_ROOT: z.string().min(1).optional(),
  HIVE_LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
    .default("info"),
});
