import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import {
  HiveAuthority,
  type Identity,
  identityLabel,
  isErrno,
  loadOrCreateKeys,
  natsKeyPaths,
  type Revocations,
  readRevocations,
  writeFileAtomic,
} from "@hyperhive/shared";
import { z } from "zod";
import type { RootPaths } from "./paths.js";

/**
 * The hive's NATS authentication as `hive up` sets it up: the key set made once under
 * `<root>/private/nats`, and on every start fresh credentials for the services, `hive up` itself
 * (`supervisor`) and the operator's commands, the previous start's being revoked — a leaked old
 * `.creds` file stops working at the next `hive up`.
 */

/** Who `hive up` mints credentials for; c0re mints the agents' own. */
export const MINTED = ["broker", "scheduler", "c0re", "web", "supervisor", "operator"] as const;
export type Minted = (typeof MINTED)[number];

function identityOf(who: Minted): Identity {
  return who === "operator" ? { kind: "operator" } : { kind: "service", name: who };
}

/** The users minted by the last `hive up` (label → public key), revoked by the next one. */
const MintedUsers = z.record(z.string(), z.string().startsWith("U"));

function mintedFile(keysDir: string): string {
  return join(natsKeyPaths(keysDir).dir, "minted.json");
}

function readMinted(keysDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(mintedFile(keysDir), "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return [];
    throw e;
  }
  const parsed = MintedUsers.safeParse(JSON.parse(text));
  // A damaged record only costs the revocation of keys nobody should hold anyway.
  return parsed.success ? Object.values(parsed.data) : [];
}

export interface HiveNatsAuth {
  readonly keysDir: string;
  readonly authority: HiveAuthority;
  /** The `.creds` file of an identity `hive up` minted. */
  credsFile(who: Minted): string;
  /** The auth part of nats-server's config, with the revocations as they are now. */
  serverConfig(): Promise<string>;
}

/**
 * Moves the key directory aside (`<root>/private/nats.old-<unix ms>`, kept owner-only) so the
 * next {@link prepareNatsAuth} makes new keys; returns where it went, or undefined if there was
 * none. Only while no hive runs: the running server and c0re hold the old ones.
 */
export function rotateKeys(paths: RootPaths, now: number = Date.now()): string | undefined {
  if (!existsSync(paths.natsKeysDir)) return undefined;
  const old = `${paths.natsKeysDir}.old-${now}`;
  renameSync(paths.natsKeysDir, old);
  return old;
}

/**
 * The key set (made the first time), the previous start's users revoked, and fresh credentials
 * for every identity `hive up` starts, each in `<keys dir>/<label>.creds` (0600).
 */
export async function prepareNatsAuth(
  paths: RootPaths,
  now: number = Date.now(),
): Promise<HiveNatsAuth> {
  const keysDir = paths.natsKeysDir;
  const p = natsKeyPaths(keysDir);
  const authority = new HiveAuthority(loadOrCreateKeys(keysDir));
  const previous = readMinted(keysDir);
  if (previous.length > 0) {
    // Folded into the account JWT the server starts with: no server runs yet to push it to.
    const revocations: Revocations = readRevocations(keysDir);
    const at = Math.ceil(now / 1000);
    for (const k of previous) revocations[k] = at;
    writeFileAtomic(p.revocations, `${JSON.stringify(revocations, null, 2)}\n`, { mode: 0o600 });
  }
  const decoder = new TextDecoder();
  const users: Record<string, string> = {};
  const credsFile = (who: Minted) => p.creds(identityLabel(identityOf(who)));
  for (const who of MINTED) {
    const minted = await authority.mint(identityOf(who));
    writeFileAtomic(credsFile(who), decoder.decode(minted.creds), { mode: 0o600 });
    users[identityLabel(identityOf(who))] = minted.publicKey;
  }
  writeFileAtomic(mintedFile(keysDir), `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return {
    keysDir,
    authority,
    credsFile,
    serverConfig: () => authority.serverConfig(p.resolver, readRevocations(keysDir)),
  };
}
