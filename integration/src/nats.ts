import { randomUUID } from "node:crypto";
import { waitUntil } from "@hyperhive/shared/testing";
import { GenericContainer, type StartedNetwork, type StartedTestContainer } from "testcontainers";
import type { Label } from "./cleanup.js";
import { ReadyLineWait } from "./ready-line.js";

const CLIENT_PORT = 4222;
const ROUTE_PORT = 6222;
const MONITOR_PORT = 8222;
/** The image has no shell for a health check: nats-server's log says when it is ready. */
const READY_LINE = "Server is ready";

/** One nats-server to start in a container. */
export interface NatsNodeSpec {
  /** The nats-server image (see image.ts). */
  readonly image: string;
  readonly network: StartedNetwork;
  /** The server's name. */
  readonly name: string;
  /**
   * The container's name, unique on the engine: the node's host name on the network, which
   * its peers route to.
   */
  readonly host: string;
  /** The hosts of the other nodes of its cluster; none: a single server. */
  readonly peers?: readonly string[];
  /** Host port for the client port, kept across restarts; default: one Docker picks. */
  readonly hostPort?: number;
  /** Put on the container, so a run can find what it left behind. */
  readonly label: Label;
}

/** The command line of a node: clients, monitoring and, in a cluster, routes to every peer. */
function command(spec: NatsNodeSpec): string[] {
  const args = ["--name", spec.name, "--port", String(CLIENT_PORT), "-m", String(MONITOR_PORT)];
  const peers = spec.peers ?? [];
  if (peers.length === 0) return args;
  return [
    ...args,
    "--cluster_name",
    "hive",
    "--cluster",
    `nats://0.0.0.0:${ROUTE_PORT}`,
    "--routes",
    peers.map((p) => `nats://${p}:${ROUTE_PORT}`).join(","),
    // Clients know the servers they were given and nothing else: container addresses told to
    // them by the cluster would make a failover pass by a server the test did not name.
    "--no_advertise",
  ];
}

/** A nats-server running in a container (testcontainers). */
export class NatsNode {
  private constructor(
    readonly name: string,
    private readonly container: StartedTestContainer,
  ) {}

  /** Starts the container and waits for the server's "Server is ready" log line. */
  static async start(spec: NatsNodeSpec): Promise<NatsNode> {
    // On the network from creation, found by its container name: network aliases would make
    // testcontainers create it on the default bridge first, which a private engine has not.
    const container = await new GenericContainer(spec.image)
      .withName(spec.host)
      .withNetwork(spec.network)
      .withCommand(command(spec))
      .withExposedPorts(
        spec.hostPort === undefined ? CLIENT_PORT : { container: CLIENT_PORT, host: spec.hostPort },
        MONITOR_PORT,
      )
      .withLabels({ [spec.label.key]: spec.label.value })
      .withWaitStrategy(new ReadyLineWait(READY_LINE))
      .withStartupTimeout(20_000)
      .start();
    return new NatsNode(spec.name, container);
  }

  /** `nats://<host>:<port>` for clients on this machine. */
  get url(): string {
    return `nats://${this.container.getHost()}:${this.container.getMappedPort(CLIENT_PORT)}`;
  }

  private get monitorUrl(): string {
    return `http://${this.container.getHost()}:${this.container.getMappedPort(MONITOR_PORT)}`;
  }

  /** Restarts the container (the server is killed, not drained) and waits until it is ready. */
  async restart(): Promise<void> {
    await this.container.restart();
  }

  /** Stops (kills) the container and removes it. */
  async stop(): Promise<void> {
    await this.container.stop();
  }

  /** How many routes to other servers it has (monitoring `/routez`). */
  async routes(): Promise<number> {
    const n = (await this.monitor("/routez")).num_routes;
    return typeof n === "number" ? n : 0;
  }

  /** The names its clients gave when they connected (monitoring `/connz`). */
  async clientNames(): Promise<string[]> {
    const list = (await this.monitor("/connz?limit=1024")).connections;
    if (!Array.isArray(list)) return [];
    return list.flatMap((c: unknown) =>
      isRecord(c) && typeof c.name === "string" ? [c.name] : [],
    );
  }

  private async monitor(path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.monitorUrl}${path}`);
    if (!res.ok) throw new Error(`${this.name} ${path}: HTTP ${res.status}`);
    const body: unknown = await res.json();
    if (!isRecord(body)) throw new Error(`${this.name} ${path}: not a JSON object`);
    return body;
  }
}

/** A container name for node `name`, unique on the engine. */
export function uniqueHost(name: string): string {
  return `hive-${name}-${randomUUID().slice(0, 8)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What a cluster's nodes share. */
export type ClusterSpec = Omit<NatsNodeSpec, "name" | "host" | "peers" | "hostPort"> & {
  /** One node per name, each routing to all the others. */
  readonly names: readonly string[];
};

/** NATS servers in containers, routed to each other. */
export class NatsCluster {
  private constructor(readonly nodes: readonly NatsNode[]) {}

  /** Starts the nodes and waits until each has a route to every other (a full mesh). */
  static async start(spec: ClusterSpec): Promise<NatsCluster> {
    const members = spec.names.map((name) => ({ name, host: uniqueHost(name) }));
    const nodes = await Promise.all(
      members.map((m) =>
        NatsNode.start({
          ...spec,
          ...m,
          peers: members.filter((o) => o !== m).map((o) => o.host),
        }),
      ),
    );
    const peers = spec.names.length - 1;
    await waitUntil(
      async () => (await Promise.all(nodes.map((n) => n.routes()))).every((r) => r === peers),
      { timeoutMs: 20_000, intervalMs: 100, what: `every node routed to its ${peers} peers` },
    );
    return new NatsCluster(nodes);
  }

  node(name: string): NatsNode {
    const n = this.nodes.find((node) => node.name === name);
    if (n === undefined) throw new Error(`no node ${name} in the cluster`);
    return n;
  }

  /** The node a client named `client` is connected to now, among the running `nodes`. */
  async nodeOf(
    client: string,
    nodes: readonly NatsNode[] = this.nodes,
  ): Promise<NatsNode | undefined> {
    for (const n of nodes) if ((await n.clientNames()).includes(client)) return n;
    return undefined;
  }
}
