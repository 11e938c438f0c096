import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { waitUntil } from "./wait.js";

/** A nats-server this process started for a test, on a free port with its own store dir. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its dir. Safe to call twice. */
  stop(): Promise<void>;
}

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

export interface StartNatsOptions {
  jetstream?: boolean;
  /** Extra config text appended to the generated file. */
  extraConfig?: string;
}

/**
 * Starts a real nats-server the way nats.js's own tests do: a generated config with `port: -1`
 * and `ports_file_dir`, then the chosen port is read back from the ports file.
 */
export async function startNatsServer(opts: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), "hive-nats-"));
  const conf = join(dir, "nats.conf");
  const lines = ["host: 127.0.0.1", "port: -1", `ports_file_dir: ${JSON.stringify(dir)}`];
  if (opts.jetstream) lines.push(`jetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }`);
  if (opts.extraConfig) lines.push(opts.extraConfig);
  writeFileSync(conf, `${lines.join("\n")}\n`);

  const child: ChildProcess = spawn(findNatsServer(), ["-c", conf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((res) =>
    child.once("exit", () => {
      exited = true;
      res();
    }),
  );

  const portsFile = () => readdirSync(dir).find((f) => f.endsWith(".ports"));
  try {
    await waitUntil(() => exited || portsFile() !== undefined, {
      timeoutMs: 10_000,
      what: "nats-server ports file",
    });
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`nats-server did not start: ${stderr}`, { cause: e });
  }
  if (exited) throw new Error(`nats-server exited at start: ${stderr}`);
  const ports = JSON.parse(readFileSync(join(dir, portsFile()!), "utf8")) as { nats: string[] };
  const url = ports.nats[0]!;
  const port = Number(new URL(url).port);

  let stopping: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exit;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * The NATS a test file should use: `NATS_URL` when set (a server someone else runs),
 * else a fresh server started for this file.
 */
export async function natsForTests(): Promise<NatsServerHandle> {
  const external = process.env.NATS_URL;
  if (external) {
    const port = Number(new URL(external.replace(/^nats:/, "http:")).port || 4222);
    return { url: external, port, stop: async () => {} };
  }
  return startNatsServer();
}
