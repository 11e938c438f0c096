import { existsSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { delimiter, join } from "node:path";
import { spawnService } from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import {
  deleteBridges,
  freeAddressPool,
  type HostNetworkState,
  hostNetworkChanges,
  hostNetworkState,
} from "./host-network.js";

/** Where a Docker engine came from. */
export const EngineOrigin = {
  /** `DOCKER_HOST` names it. */
  Env: "env",
  /** The system engine at `/var/run/docker.sock`. */
  System: "system",
  /** Started by this run, in a temp dir, and stopped by it. */
  Private: "private",
} as const;
export type EngineOrigin = (typeof EngineOrigin)[keyof typeof EngineOrigin];

/** A Docker engine the tests may use. */
export interface DockerEngine {
  /** Its address as `DOCKER_HOST` spells it: `unix:///…/docker.sock` or `tcp://host:port`. */
  readonly host: string;
  readonly origin: EngineOrigin;
  /**
   * A private engine: stops it, removes its files and the bridges it made, and rejects if the
   * host's network (forwarding, firewall, interfaces) is not as it was. Nothing for an engine
   * found running. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** No Docker engine answers and none can be started here. The message is the one line to show. */
export class DockerUnavailableError extends Error {
  override readonly name = "DockerUnavailableError";
}

const SYSTEM_SOCKET = "/var/run/docker.sock";
const INSTALL_HINT =
  "integration tests need Docker: apt-get install docker.io (as root), or set DOCKER_HOST to a running engine";
const ROOT_HINT =
  "integration tests need Docker: no engine answers, and only root may start dockerd here: run them as root, or set DOCKER_HOST to a running engine";

/**
 * The engine to use: `DOCKER_HOST` if set (it must answer), else the system engine if it answers,
 * else a private `dockerd` started for this run (root only).
 */
export async function dockerEngine(): Promise<DockerEngine> {
  const fromEnv = process.env.DOCKER_HOST;
  if (fromEnv) {
    if (await answers(fromEnv)) return found(fromEnv, EngineOrigin.Env);
    throw new DockerUnavailableError(
      `integration tests need Docker: DOCKER_HOST=${fromEnv} does not answer (start that engine, or unset DOCKER_HOST)`,
    );
  }
  const system = `unix://${SYSTEM_SOCKET}`;
  if (existsSync(SYSTEM_SOCKET) && (await answers(system)))
    return found(system, EngineOrigin.System);
  const dockerd = findDockerd();
  if (dockerd === undefined) throw new DockerUnavailableError(INSTALL_HINT);
  if (process.getuid?.() !== 0) throw new DockerUnavailableError(ROOT_HINT);
  return startPrivateEngine(dockerd);
}

function found(host: string, origin: EngineOrigin): DockerEngine {
  return { host, origin, stop: async () => {} };
}

/** `GET <path>` on the Docker API at `host`: the status and the body, or undefined if unreachable. */
function dockerGet(
  host: string,
  path: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string } | undefined> {
  const url = new URL(host);
  const target =
    url.protocol === "unix:"
      ? { socketPath: url.pathname }
      : { host: url.hostname, port: Number(url.port || 2375) };
  return new Promise((resolve) => {
    const req = http.get({ ...target, path, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}

/**
 * Whether the engine at `host` answers `GET /_ping`. An engine behind TLS (`DOCKER_TLS_VERIFY`) is
 * taken as answering: testcontainers, which has the certificates, reports it if it does not.
 */
export async function answers(host: string): Promise<boolean> {
  if (host.startsWith("tcp:") && process.env.DOCKER_TLS_VERIFY === "1") return true;
  return (await dockerGet(host, "/_ping"))?.status === 200;
}

/** The Linux bridges of the engine's bridge networks: `br-` and the network id's first 12. */
async function engineBridges(host: string): Promise<string[]> {
  const res = await dockerGet(host, "/networks");
  const list: unknown = res?.status === 200 ? JSON.parse(res.body) : [];
  if (!Array.isArray(list)) return [];
  return list.flatMap((n: unknown) =>
    typeof n === "object" && n !== null && "Id" in n && "Driver" in n && n.Driver === "bridge"
      ? [`br-${String(n.Id).slice(0, 12)}`]
      : [],
  );
}

function findDockerd(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/bin"]);
  return dirs.map((d) => join(d, "dockerd")).find((p) => existsSync(p));
}

/**
 * dockerd's command line for a private engine in `dir`. The first four flags keep it off the
 * host's firewall and IP forwarding (without them dockerd rewrites both, and that outlives it);
 * `--bridge=none` means no `docker0` (the tests make their own networks, see network.ts), and
 * those networks come from `pool` (see {@link freeAddressPool}); its own config file and
 * containerd namespace keep it apart from any system Docker or containerd.
 */
export function privateEngineArgs(dir: string, pool: string): string[] {
  return [
    "--iptables=false",
    "--ip6tables=false",
    "--ip-forward=false",
    "--ip-masq=false",
    "--bridge=none",
    `--default-address-pool=base=${pool},size=24`,
    `--host=unix://${join(dir, "docker.sock")}`,
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "docker.pid")}`,
    `--config-file=${join(dir, "daemon.json")}`,
    "--containerd-namespace=hyperhive-integration",
    "--containerd-plugins-namespace=hyperhive-integration-plugins",
  ];
}

async function startPrivateEngine(dockerd: string): Promise<DockerEngine> {
  const dir = tempDir("hive-dockerd-");
  const host = `unix://${join(dir.path, "docker.sock")}`;
  const logFile = join(dir.path, "dockerd.log");
  writeFileSync(join(dir.path, "daemon.json"), "{}\n");
  const before: HostNetworkState = hostNetworkState();
  const proc = spawnService({
    name: "dockerd",
    command: dockerd,
    args: privateEngineArgs(dir.path, freeAddressPool()),
    logFile,
    readyTimeoutMs: 30_000,
    // dockerd has no ready line on stdout; it logs this once its API serves.
    readyTest: () => readFileSync(logFile, "utf8").includes("API listen on "),
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // dockerd leaves its networks' bridges when it stops; ask it for them while it answers.
      const bridges = await engineBridges(host);
      await proc.stop(20_000);
      const left = deleteBridges(bridges);
      const changed = hostNetworkChanges(before);
      if (left.length > 0) changed.push(`interfaces left behind: ${left.join(", ")}`);
      dir.remove();
      if (changed.length > 0) {
        throw new Error(`the private dockerd changed the host: ${changed.join("; ")}`);
      }
    })();
    return stopping;
  };

  try {
    await proc.ready;
    if (!(await answers(host))) throw new Error(`dockerd does not answer at ${host}`);
  } catch (e) {
    const tail = readFileSync(logFile, "utf8").slice(-2000);
    const cleanup = await stop().then(
      () => "",
      (s: unknown) => ` (and stopping it: ${s instanceof Error ? s.message : String(s)})`,
    );
    throw new Error(
      `${e instanceof Error ? e.message : String(e)}${cleanup}; its log ends:\n${tail}`,
    );
  }
  return { host, origin: EngineOrigin.Private, stop };
}
