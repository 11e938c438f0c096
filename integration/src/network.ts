import { randomUUID } from "node:crypto";
import { getContainerRuntimeClient, StartedNetwork } from "testcontainers";
import { sessionLabel } from "./cleanup.js";

const LOOPBACK = ["127.0.0.1", "localhost"];

/**
 * A bridge network, labelled with this session like testcontainers' own `Network`. When the
 * tests reach the containers' published ports over loopback (a local engine), those ports listen
 * on 127.0.0.1 only: the servers have no auth and must not be reachable from other machines.
 * (testcontainers' `Network` takes no driver options, and dockerd's `--ip` applies to its default
 * bridge only.)
 */
export async function startNetwork(): Promise<StartedNetwork> {
  const client = await getContainerRuntimeClient();
  const session = await sessionLabel();
  const name = `hive-it-${randomUUID()}`;
  const loopback = LOOPBACK.includes(client.info.containerRuntime.host);
  const network = await client.network.create({
    Name: name,
    CheckDuplicate: true,
    Driver: "bridge",
    Labels: { [session.key]: session.value },
    Options: loopback ? { "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1" } : {},
  });
  return new StartedNetwork(client, name, network);
}
