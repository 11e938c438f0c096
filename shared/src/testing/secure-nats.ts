import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { HiveAuthority } from "../auth/authority.js";
import { type Identity, identityLabel } from "../auth/grants.js";
import { loadOrCreateKeys, natsKeyPaths } from "../auth/store.js";
import { connectNats } from "../nats.js";
import { type NatsServerHandle, startNatsServer } from "../nats-server.js";
import { tempDir } from "./tmp.js";

/** A nats-server with the hive's decentralized auth, and the means to be anyone on it. */
export interface SecureNats {
  server: NatsServerHandle;
  authority: HiveAuthority;
  /** The key directory (`keys.json`, `revocations.json`, the resolver's store). */
  keysDir: string;
  /** Mints fresh credentials for `id` into a file; returns its path and the user's key. */
  credsFile(id: Identity): Promise<{ path: string; publicKey: string }>;
  /** Connects as `id` (fresh credentials), as a service would: its own reply inbox prefix. */
  connectAs(id: Identity): Promise<NatsConnection>;
  /** A connection of the system account (pushes account updates). */
  system(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/**
 * Starts a nats-server configured as `hive up` configures the hive's: an operator, a system
 * account, the hive's account with a signing key, a full resolver; no user list (users are
 * whoever holds credentials the account's key signed).
 */
export async function secureNatsForTests(): Promise<SecureNats> {
  const dir = tempDir("hive-secure-nats-");
  const keysDir = join(dir.path, "keys");
  const authority = new HiveAuthority(loadOrCreateKeys(keysDir));
  const extraConfig = await authority.serverConfig(natsKeyPaths(keysDir).resolver);
  const server = await startNatsServer({ dir: join(dir.path, "server"), extraConfig });
  let n = 0;
  const conns: NatsConnection[] = [];
  const credsFile = async (id: Identity) => {
    const minted = await authority.mint(id);
    const path = join(dir.path, `${identityLabel(id)}-${++n}.creds`);
    writeFileSync(path, minted.creds, { mode: 0o600 });
    return { path, publicKey: minted.publicKey };
  };
  return {
    server,
    authority,
    keysDir,
    credsFile,
    async connectAs(id) {
      const { path } = await credsFile(id);
      const nc = await connectNats({ url: server.url, name: identityLabel(id), credsFile: path });
      conns.push(nc);
      return nc;
    },
    async system() {
      const minted = await authority.mintSystemUser();
      const nc = await connect({
        servers: server.url,
        authenticator: credsAuthenticator(minted.creds),
      });
      conns.push(nc);
      return nc;
    },
    async stop() {
      await Promise.allSettled(conns.map((c) => c.close()));
      await server.stop();
      dir.remove();
    },
  };
}
