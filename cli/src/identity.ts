import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { isErrno, writeFileAtomic } from "@hyperhive/shared";
import type { RootPaths } from "./paths.js";

/**
 * What stays the same across restarts of a hive: the operator token and the NATS port. Both are
 * made once and kept owner-only under `<root>/private` (0700, files 0600), so a browser session
 * and every client outlive a restart of `hive up`; `hive token --rotate` makes a new token.
 */

/** Creates `<root>/private` owner-only, and narrows it if it exists with a laxer mode. */
export function ensurePrivateDir(paths: RootPaths): void {
  mkdirSync(paths.privateDir, { recursive: true, mode: 0o700 });
  if ((statSync(paths.privateDir).mode & 0o077) !== 0) chmodSync(paths.privateDir, 0o700);
}

/** Writes a file of `private/` atomically and owner-only. */
export function writePrivate(paths: RootPaths, file: string, text: string): void {
  ensurePrivateDir(paths);
  writeFileAtomic(file, text, { mode: 0o600 });
}

/** Reads a file of `private/`, narrowing its mode if someone widened it; undefined if absent. */
function readPrivate(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (isErrno(e, "ENOENT")) return undefined;
    throw e;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return text.trim();
}

function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** The kept operator token, or undefined if no `hive up` has made one yet. */
export function readToken(paths: RootPaths): string | undefined {
  const t = readPrivate(paths.tokenFile);
  return t ? t : undefined;
}

/** The kept operator token; makes and keeps one the first time. */
export function operatorToken(paths: RootPaths): string {
  const kept = readToken(paths);
  if (kept) return kept;
  const token = newToken();
  writePrivate(paths, paths.tokenFile, `${token}\n`);
  return token;
}

/**
 * Replaces the operator token (atomically: a reader sees the old token or the new one). A
 * running web reads the file again and from then on refuses the old token.
 */
export function rotateToken(paths: RootPaths): string {
  const token = newToken();
  writePrivate(paths, paths.tokenFile, `${token}\n`);
  return token;
}

/** A kept port file that does not hold a port. */
export class BadPortFileError extends Error {
  override readonly name = "BadPortFileError";
}

/** The kept NATS port, or undefined before the first `hive up` has chosen one. */
export function keptNatsPort(paths: RootPaths): number | undefined {
  const text = readPrivate(paths.natsPortFile);
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadPortFileError(
      `${paths.natsPortFile} does not hold a port (${JSON.stringify(text.slice(0, 20))}); delete it to get a new one`,
    );
  }
  return port;
}

/** Keeps the NATS port the first nats-server of this root was given. */
export function keepNatsPort(paths: RootPaths, port: number): void {
  writePrivate(paths, paths.natsPortFile, `${port}\n`);
}
