import { pino } from "pino";

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** pino level; default from HIVE_LOG_LEVEL, else "info". */
  level?: string;
  /** Where JSON lines go: a file descriptor, default 2 (stderr) so stdout stays for protocol. */
  fd?: number;
}

/** One JSON-lines logger per service, tagged with the service name. */
export function createLogger(service: string, opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.HIVE_LOG_LEVEL ?? "info";
  return pino(
    { name: service, level, base: { service } },
    pino.destination({ fd: opts.fd ?? 2, sync: true }),
  );
}
