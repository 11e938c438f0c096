import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { type ExitInfo, startService } from "./process.js";

/** Finds nats-server: `$NATS_SERVER_BIN`, then `PATH`, then Debian's `/usr/sbin`. */
export function findNatsServer(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/local/sbin"]);
  for (const d of dirs) {
    const p = join(d, "nats-server");
    if (d && existsSync(p)) return p;
  }
  throw new Error(
    "nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN",
  );
}

export interface NatsServerOptions {
  /**
   * Directory for the config and the ports file. Default: a fresh temp dir, removed on stop.
   * A given dir is kept (`hive up` keeps its server's files under the hive root).
   */
  dir?: string;
  /** Client port; default -1, a free one (never colliding with a system NATS on 4222). */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Extra config text appended to the generated file (authorization, cluster, ...). */
  extraConfig?: string;
  /** Append the server's output here; default: kept in memory for start errors. */
  logFile?: string;
  /** Own process group (see `spawnService`). */
  detached?: boolean;
  /** Wait this long for the ports file; default 15000 ms. */
  readyTimeoutMs?: number;
}

/** A nats-server started by {@link startNatsServer}. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Undefined for a server someone else runs (see `natsForTests`). */
  readonly pid: number | undefined;
  /** Settles when the server exits (never, for a server someone else runs). */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, SIGKILL after `graceMs` (default 3000); removes a temp dir. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** Writes `<dir>/nats.conf` for a server on `port` with its ports file in `dir`; returns the path. */
export function writeNatsConfig(
  dir: string,
  o: { port: number; host: string; extraConfig?: string | undefined },
): string {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "nats.conf");
  const lines = [`host: ${o.host}`, `port: ${o.port}`, `ports_file_dir: ${JSON.stringify(dir)}`];
  if (o.extraConfig) lines.push(o.extraConfig);
  writeFileSync(conf, `${lines.join("\n")}\n`, { mode: 0o600 });
  return conf;
}

/**
 * The client port in the ports file nats-server `pid` wrote into `dir`, once that file is
 * complete: nats-server may still be writing it when it first appears.
 */
export function readNatsPortsFile(dir: string, pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, `nats-server_${pid}.ports`), "utf8");
  } catch {
    return undefined;
  }
  try {
    const ports: unknown = JSON.parse(text);
    if (typeof ports !== "object" || ports === null || !("nats" in ports)) return undefined;
    const urls = ports.nats;
    if (!Array.isArray(urls) || typeof urls[0] !== "string") return undefined;
    const port = Number(new URL(urls[0]).port);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a real nats-server the way nats.js's own tests do: a generated config with `port: -1`
 * (or the given port) and `ports_file_dir`, then the chosen port read back from the ports file.
 * Used by `hive up` and by tests alike.
 */
export async function startNatsServer(o: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const temp = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "hive-nats-"));
  const conf = writeNatsConfig(dir, {
    port: o.port ?? -1,
    host: o.host ?? "127.0.0.1",
    extraConfig: o.extraConfig,
  });
  // The ports file is named after the server's pid, so one left by an earlier server in a kept
  // dir is never taken for this one's.
  let port: number | undefined;
  try {
    const p = await startService({
      name: "nats-server",
      command: findNatsServer(),
      args: ["-c", conf],
      readyTimeoutMs: o.readyTimeoutMs ?? 15_000,
      readyTest: (pid) => {
        port = readNatsPortsFile(dir, pid);
        return port !== undefined;
      },
      ...(o.logFile === undefined ? {} : { logFile: o.logFile }),
      ...(o.detached === undefined ? {} : { detached: o.detached }),
      failGraceMs: 0,
    });
    const found = port;
    if (found === undefined) throw new Error("nats-server said ready without a port");
    let stopping: Promise<void> | undefined;
    return {
      url: `nats://127.0.0.1:${found}`,
      port: found,
      pid: p.pid,
      exited: p.exited,
      stop(graceMs = 3000) {
        stopping ??= (async () => {
          await p.stop(graceMs);
          if (temp) rmSync(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (e) {
    if (temp) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
