import { join } from "node:path";
import { z } from "zod";

/** Where things live under a hive root. Every service derives its paths from here. */
export function hivePaths(root: string) {
  return {
    root,
    /** `<root>/agents/<name>/state`: the agent's durable state dir, same path inside its container. */
    agentStateDir: (name: string) => join(root, "agents", name, "state"),
    /** `<root>/agents/<name>/run`: generated per-boot files and the agent's unix socket. */
    agentRunDir: (name: string) => join(root, "agents", name, "run"),
    /** `<run dir>/nats.creds`: the agent's own NATS credentials, minted by c0re (0600). */
    agentCredsFile: (name: string) => join(root, "agents", name, "run", "nats.creds"),
    /** `<root>/shared`: files every agent may read (read-only inside their sandboxes). */
    sharedDir: join(root, "shared"),
    /** `<root>/private`: the operator's alone (0700): token, NATS port, keys. */
    privateDir: join(root, "private"),
    /** `<root>/private/nats`: the hive's NATS keys, revocations and minted service credentials. */
    natsKeysDir: join(root, "private", "nats"),
    /** Service databases. */
    db: (service: string) => join(root, "db", `${service}.sqlite`),
    /** Written by `hive up` while the hive runs: how the CLI finds it. */
    runtimeFile: join(root, "hive.json"),
    logsDir: join(root, "logs"),
    natsDir: join(root, "nats"),
  };
}

/** Contents of `<root>/hive.json`, written by `hive up` and read by the other `hive` commands. */
export const HiveRuntime = z.strictObject({
  pid: z.number().int(),
  nats_url: z.string(),
  web_url: z.string(),
  /** The operator token every dashboard request needs. */
  token: z.string(),
  /**
   * The operator's NATS credentials (`<root>/private/nats/operator.creds`), which the `hive`
   * commands connect with; absent when the hive uses a nats-server it does not run (NATS_URL).
   */
  nats_creds: z.string().optional(),
  started_at: z.number().int(),
});
export type HiveRuntime = z.infer<typeof HiveRuntime>;
