/**
 * `node nats-guard.js --dir DIR --port N [--auth FILE] [--log FILE]`: runs the hive's nats-server
 * and holds its lifeline. nats-server cannot watch a pipe, so `hive up` starts this small process
 * instead (with `lifeline: true`); it starts nats-server as its child with shared's
 * `startNatsServer` (config and ports file in DIR, client port N or -1 for a free one; FILE's
 * text added to the config: `hive up`'s decentralized JWT auth) and prints
 * `{"ready":"nats-server","url","port","pid"}`. It stops nats-server on SIGTERM/SIGINT/SIGHUP and
 * when its lifeline ends (`hive up` died, even by SIGKILL), and exits when nats-server exits on
 * its own, the same way (the same signal, or its exit code), so `hive up` sees it and restarts.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  createLogger,
  type ExitInfo,
  type NatsServerHandle,
  processAlive,
  runService,
  startNatsServer,
} from "@hyperhive/shared";

/** SIGTERM to nats-server → SIGKILL after this long. */
const STOP_GRACE_MS = 5000;

/** Ports files of earlier servers in `dir` whose process is gone (a SIGKILL leaves them). */
function removeStalePortsFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^nats-server_(\d+)\.ports$/.exec(name);
    if (m && !processAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

/** Leaves the way nats-server left: killed by the same signal, or with its exit code. */
function exitLike(e: ExitInfo): never {
  if (
    e.signal !== null &&
    e.signal !== "SIGTERM" &&
    e.signal !== "SIGINT" &&
    e.signal !== "SIGHUP"
  ) {
    process.kill(process.pid, e.signal);
  }
  const signalCode = e.signal === null ? undefined : constants.signals[e.signal];
  process.exit(signalCode === undefined ? (e.code ?? 1) : 128 + signalCode);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      port: { type: "string" },
      auth: { type: "string" },
      log: { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!values.dir || !Number.isInteger(port) || port < -1 || port > 65535) {
    throw new Error(
      "usage: nats-guard --dir DIR --port N (-1: a free port) [--auth FILE] [--log FILE]",
    );
  }
  const dir = values.dir;
  const log = createLogger("nats-guard");
  let server: NatsServerHandle | undefined;
  removeStalePortsFiles(dir);
  const extraConfig = values.auth === undefined ? undefined : readFileSync(values.auth, "utf8");
  const run = await runService({
    name: "nats-server",
    log,
    forceExitMs: STOP_GRACE_MS + 5000,
    async start(defer) {
      const s = await startNatsServer({
        dir,
        port,
        ...(extraConfig === undefined ? {} : { extraConfig }),
        ...(values.log === undefined ? {} : { logFile: values.log }),
      });
      defer(() => s.stop(STOP_GRACE_MS));
      server = s;
      return { url: s.url, port: s.port, pid: s.pid };
    },
  });
  void server?.exited.then((e) => {
    if (run.state !== "running") return;
    log.error({ exit: e }, "nats-server exited on its own");
    exitLike(e);
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`nats-guard: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
