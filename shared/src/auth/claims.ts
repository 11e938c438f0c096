import { decode } from "@nats-io/jwt";
import * as z from "zod";

/** The claims of a user JWT the hive reads back: who it is, who signed it, what it may do. */
export const UserClaims = z.looseObject({
  /** The user's public key (`U…`): what a revocation names. */
  sub: z.string(),
  /** Who signed it (the account or its signing key). */
  iss: z.string(),
  nats: z.looseObject({
    issuer_account: z.string().optional(),
    pub: z.looseObject({ allow: z.array(z.string()).optional() }).optional(),
    sub: z.looseObject({ allow: z.array(z.string()).optional() }).optional(),
  }),
});
export type UserClaims = z.infer<typeof UserClaims>;

const USER_JWT = /-----BEGIN NATS USER JWT-----\s*(\S+?)\s*------END NATS USER JWT------/;

/** The user claims in a `.creds` file's content; undefined when there are none or they do not parse. */
export function userClaimsOf(creds: Uint8Array | string): UserClaims | undefined {
  const text = typeof creds === "string" ? creds : new TextDecoder().decode(creds);
  const jwt = USER_JWT.exec(text)?.[1];
  if (jwt === undefined) return undefined;
  try {
    const parsed = UserClaims.safeParse(decode(jwt));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
