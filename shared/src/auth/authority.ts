import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromSeed,
  type KeyPair,
} from "@nats-io/jwt";
import * as z from "zod";
import { type Grants, grantsFor, type Identity, identityLabel } from "./grants.js";

/**
 * The hive's NATS keys (decentralized auth): an operator, a system account (for pushing account
 * updates to the server), and the hive's account, whose users are minted from {@link grantsFor}.
 * Users are signed by the account's signing key, so the server needs nothing to accept a new one
 * (a spawned agent's credentials work at once, without a restart); revoking one is a new account
 * JWT listing it, pushed to the running server.
 */
export const HiveKeySet = z.strictObject({
  /** nkey seeds (`SO…`, `SA…`). */
  operator_seed: z.string().startsWith("SO"),
  system_account_seed: z.string().startsWith("SA"),
  account_seed: z.string().startsWith("SA"),
  /** Signs the account's users (c0re mints agents' credentials with it). */
  account_signer_seed: z.string().startsWith("SA"),
  /** Unix ms. */
  created_at: z.number().int(),
});
export type HiveKeySet = z.infer<typeof HiveKeySet>;

/** Revoked user public keys → unix seconds: every JWT of that key issued up to then is refused. */
export const Revocations = z.record(z.string().startsWith("U"), z.number().int());
export type Revocations = z.infer<typeof Revocations>;

const decoder = new TextDecoder();
const seedOf = (kp: KeyPair): string => decoder.decode(kp.getSeed());

/** A fresh key set. */
export function createKeySet(now: number = Date.now()): HiveKeySet {
  return {
    operator_seed: seedOf(createOperator()),
    system_account_seed: seedOf(createAccount()),
    account_seed: seedOf(createAccount()),
    account_signer_seed: seedOf(createAccount()),
    created_at: now,
  };
}

/** An account may do everything a single-machine hive needs; the users' grants do the limiting. */
const UNLIMITED = {
  subs: -1,
  conn: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  leaf: -1,
};

/** A user's credentials: what `credsAuthenticator` takes, and the key to revoke it by. */
export interface MintedCreds {
  /** The `.creds` file's content (the user JWT and its nkey seed). */
  creds: Uint8Array;
  /** The user's public key (`U…`). */
  publicKey: string;
}

/** Signs what the hive's nats-server and its users need, from a {@link HiveKeySet}. */
export class HiveAuthority {
  readonly #operator: KeyPair;
  readonly #system: KeyPair;
  readonly #account: KeyPair;
  readonly #signer: KeyPair;

  constructor(keys: HiveKeySet) {
    const k = HiveKeySet.parse(keys);
    this.#operator = fromSeed(new TextEncoder().encode(k.operator_seed));
    this.#system = fromSeed(new TextEncoder().encode(k.system_account_seed));
    this.#account = fromSeed(new TextEncoder().encode(k.account_seed));
    this.#signer = fromSeed(new TextEncoder().encode(k.account_signer_seed));
  }

  /** The hive account's public key (`A…`). */
  get accountKey(): string {
    return this.#account.getPublicKey();
  }

  get systemAccountKey(): string {
    return this.#system.getPublicKey();
  }

  operatorJwt(): Promise<string> {
    return encodeOperator("hyperhive", this.#operator, {
      system_account: this.#system.getPublicKey(),
    });
  }

  systemAccountJwt(): Promise<string> {
    return encodeAccount("SYS", this.#system, { limits: UNLIMITED }, { signer: this.#operator });
  }

  /** The hive account's JWT, with its signing key and the users revoked so far. */
  accountJwt(revocations: Revocations = {}): Promise<string> {
    return encodeAccount(
      "HIVE",
      this.#account,
      {
        limits: UNLIMITED,
        signing_keys: [this.#signer.getPublicKey()],
        ...(Object.keys(revocations).length > 0 ? { revocations } : {}),
      },
      { signer: this.#operator },
    );
  }

  /** Credentials for `id`, with exactly its grants; a fresh user key each time. */
  async mint(id: Identity): Promise<MintedCreds> {
    const user = createUser();
    const g: Grants = grantsFor(id);
    const jwt = await encodeUser(
      identityLabel(id),
      user,
      this.#account,
      {
        pub: { allow: g.publish },
        sub: { allow: g.subscribe },
        ...(g.responds ? { resp: { max: 1, ttl: 0 } } : {}),
      },
      { signer: this.#signer },
    );
    return { creds: fmtCreds(jwt, user), publicKey: user.getPublicKey() };
  }

  /** A user of the system account: it may push account updates (`$SYS.REQ.CLAIMS.UPDATE`). */
  async mintSystemUser(): Promise<MintedCreds> {
    const user = createUser();
    const jwt = await encodeUser("hive-system", user, this.#system, {}, { signer: this.#system });
    return { creds: fmtCreds(jwt, user), publicKey: user.getPublicKey() };
  }

  /**
   * The decentralized-auth part of a nats-server config: the operator, the system account, and a
   * full resolver in `resolverDir` preloaded with both accounts (it keeps what is pushed later).
   */
  async serverConfig(resolverDir: string, revocations: Revocations = {}): Promise<string> {
    const [op, sys, acct] = await Promise.all([
      this.operatorJwt(),
      this.systemAccountJwt(),
      this.accountJwt(revocations),
    ]);
    return [
      `operator: ${op}`,
      `system_account: ${this.systemAccountKey}`,
      `resolver: { type: full, dir: ${JSON.stringify(resolverDir)}, allow_delete: false, interval: "2m" }`,
      "resolver_preload: {",
      `  ${this.systemAccountKey}: ${sys}`,
      `  ${this.accountKey}: ${acct}`,
      "}",
    ].join("\n");
  }
}
