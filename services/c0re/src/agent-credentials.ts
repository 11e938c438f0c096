import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  type AgentName,
  connectAsSystem,
  grantsFor,
  HiveAuthority,
  hivePaths,
  type Identity,
  type Logger,
  loadKeys,
  revokeUsers,
  type UserClaims,
  userClaimsOf,
} from "@hyperhive/shared";
import type { AgentSpec } from "./driver.js";

/**
 * Each agent's own NATS credentials: minted by c0re into the agent's run dir before it starts
 * (the only place its harness looks, and the only one its sandbox shows it), and revoked when it
 * is destroyed. Users are signed by the account's signing key, so a new agent's credentials work
 * at once without touching the server; a revocation is a new account JWT pushed to it, which
 * cuts the agent's connections and refuses them from then on.
 */
export interface AgentCredentials {
  /**
   * Makes sure `spec`'s credentials file holds a user of the current account with exactly the
   * grants of its role: kept across restarts when it does, minted afresh (and the old user
   * revoked) when it does not — the keys were rotated, the role or its grants changed.
   */
  issue(spec: AgentSpec): Promise<void>;
  /** Revokes the user in `name`'s credentials file and deletes the file (destroy). */
  revoke(name: AgentName): Promise<void>;
}

/** The user claims of the credentials file at `path`; undefined when there is none (or no user in it). */
function readCreds(path: string): UserClaims | undefined {
  try {
    return userClaimsOf(readFileSync(path));
  } catch {
    return undefined;
  }
}

const sameList = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a !== undefined && a.length === b.length && a.every((s, i) => s === b[i]);

export interface NatsAgentCredentialsOptions {
  /** The hive root (run dirs). */
  root: string;
  /** `<root>/private/nats`: the key set and revocations `hive up` keeps. */
  keysDir: string;
  /** The hive's NATS URL(s): revocations are pushed there. */
  natsUrl: string;
  log: Logger;
}

/** {@link AgentCredentials} from the hive's own keys (decentralized JWT auth). */
export class NatsAgentCredentials implements AgentCredentials {
  readonly #o: NatsAgentCredentialsOptions;
  readonly #authority: HiveAuthority;

  constructor(o: NatsAgentCredentialsOptions) {
    this.#o = o;
    this.#authority = new HiveAuthority(loadKeys(o.keysDir));
  }

  async issue(spec: AgentSpec): Promise<void> {
    const path = hivePaths(this.#o.root).agentCredsFile(spec.name);
    const id: Identity = { kind: "agent", name: spec.name, role: spec.role };
    const held = readCreds(path);
    if (held && this.#current(held, id)) return;
    const minted = await this.#authority.mint(id);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, minted.creds, { mode: 0o600 });
    chmodSync(path, 0o600);
    this.#o.log.info({ agent: spec.name, user: minted.publicKey }, "agent credentials minted");
    // The user it replaces (same account, other grants) must not keep working alongside it.
    if (held && held.nats.issuer_account === this.#authority.accountKey) {
      await this.#revoke([held.sub]);
    }
  }

  async revoke(name: AgentName): Promise<void> {
    const path = hivePaths(this.#o.root).agentCredsFile(name);
    const held = readCreds(path);
    if (held && held.nats.issuer_account === this.#authority.accountKey) {
      await this.#revoke([held.sub]);
      this.#o.log.info({ agent: name, user: held.sub }, "agent credentials revoked");
    }
    rmSync(path, { force: true });
  }

  /** Whether `held` is a user of this account with exactly `id`'s grants. */
  #current(held: UserClaims, id: Identity): boolean {
    const g = grantsFor(id);
    return (
      held.nats.issuer_account === this.#authority.accountKey &&
      sameList(held.nats.pub?.allow, g.publish) &&
      sameList(held.nats.sub?.allow, g.subscribe)
    );
  }

  async #revoke(users: string[]): Promise<void> {
    const sys = await connectAsSystem(this.#o.natsUrl, this.#authority, "c0re-revoke");
    try {
      await revokeUsers(this.#o.keysDir, this.#authority, sys, users);
    } finally {
      await sys.close();
    }
  }
}
