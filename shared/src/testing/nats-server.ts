import { type NatsServerHandle, startNatsServer } from "../nats-server.js";

export { type NatsServerHandle, startNatsServer } from "../nats-server.js";

/**
 * The NATS a test file should use: `NATS_URL` when set (a server someone else runs),
 * else a fresh server on a free port with its own dir, started for this file.
 */
export async function natsForTests(): Promise<NatsServerHandle> {
  const external = process.env.NATS_URL;
  if (external) {
    const port = Number(new URL(external.replace(/^nats:/, "http:")).port || 4222);
    return {
      url: external,
      port,
      pid: undefined,
      exited: new Promise(() => {}),
      stop: async () => {},
    };
  }
  return startNatsServer();
}
