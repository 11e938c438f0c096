import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import * as z from "zod";
import { isErrno, writeFileAtomic } from "../fs.js";
import { createKeySet, type HiveAuthority, HiveKeySet, Revocations } from "./authority.js";

/**
 * Where the hive keeps its NATS keys: one owner-only directory (`<root>/private/nats`), written
 * once by `hive up` and read by whoever mints or revokes (c0re for its agents).
 */
export function natsKeyPaths(dir: string) {
  return {
    dir,
    /** The key set (seeds): the hive's most secret file. */
    keys: join(dir, "keys.json"),
    /** Users revoked so far (destroyed agents), folded into every account JWT. */
    revocations: join(dir, "revocations.json"),
    /** The full resolver's store of account JWTs (nats-server's). */
    resolver: join(dir, "resolver"),
    /** Minted credentials of the services and the operator: `<label>.creds`. */
    creds: (label: string) => join(dir, `${label}.creds`),
  };
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** The hive's key set, created (owner-only) the first time. */
export function loadOrCreateKeys(dir: string): HiveKeySet {
  const p = natsKeyPaths(dir);
  try {
    return HiveKeySet.parse(readJson(p.keys));
  } catch (e) {
    if (!isErrno(e, "ENOENT")) {
      throw new Error(`${p.keys} is not a hive key set: ${e instanceof Error ? e.message : e}`);
    }
  }
  const keys = createKeySet();
  // Owner-only whatever the umask: the seeds sign every identity of the hive.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileAtomic(p.keys, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return keys;
}

/** The key set as written; an error when there is none (nothing is created here). */
export function loadKeys(dir: string): HiveKeySet {
  return HiveKeySet.parse(readJson(natsKeyPaths(dir).keys));
}

export function readRevocations(dir: string): Revocations {
  try {
    return Revocations.parse(readJson(natsKeyPaths(dir).revocations));
  } catch (e) {
    if (isErrno(e, "ENOENT")) return {};
    throw e;
  }
}

const ClaimsUpdateReply = z.looseObject({
  data: z.looseObject({ code: z.number(), message: z.string().optional() }).optional(),
  error: z.looseObject({ code: z.number().optional(), description: z.string() }).optional(),
});

/**
 * Revokes users: adds their public keys to the revocations file, signs a new account JWT with
 * them all, and pushes it to the running server over a system-account connection (the full
 * resolver takes it at once and ends their connections). Returns the account JWT pushed.
 */
export async function revokeUsers(
  dir: string,
  authority: HiveAuthority,
  system: NatsConnection,
  publicKeys: readonly string[],
  now: number = Date.now(),
): Promise<string> {
  const revocations = readRevocations(dir);
  // A revocation holds for JWTs issued at or before its time; seconds, rounded up.
  const at = Math.ceil(now / 1000);
  for (const k of publicKeys) revocations[k] = at;
  writeFileAtomic(natsKeyPaths(dir).revocations, `${JSON.stringify(revocations, null, 2)}\n`, {
    mode: 0o600,
  });
  const jwt = await authority.accountJwt(revocations);
  const reply = await system.request("$SYS.REQ.CLAIMS.UPDATE", jwt, { timeout: 5000 });
  const r = ClaimsUpdateReply.parse(JSON.parse(new TextDecoder().decode(reply.data)));
  if (r.error || r.data?.code !== 200) {
    throw new Error(
      `nats-server refused the account update: ${r.error?.description ?? r.data?.message ?? "no reason"}`,
    );
  }
  return jwt;
}

/**
 * A short-lived connection of the system account (a user minted for it), for pushing account
 * updates; the caller closes it.
 */
export async function connectAsSystem(
  urls: string,
  authority: HiveAuthority,
  name = "hive-system",
): Promise<NatsConnection> {
  const user = await authority.mintSystemUser();
  return connect({
    servers: urls.split(",").map((s) => s.trim()),
    name,
    authenticator: credsAuthenticator(user.creds),
    reconnect: false,
  });
}
