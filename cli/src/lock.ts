import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { isErrno } from "@hyperhive/shared";

/** Held by the one `hive up` of a root; released when it closes or its process dies. */
export interface RootLock {
  release(): Promise<void>;
}

/**
 * The name of a root's lock: a Linux abstract unix socket (no file; the kernel frees the name
 * the moment the process holding it dies, SIGKILL included), named after the root's real path,
 * so two spellings of one directory share one lock.
 */
export function lockName(root: string): string {
  const digest = createHash("sha256").update(realpathSync(root)).digest("hex").slice(0, 40);
  return `\0hyperhive-up-${digest}`;
}

/**
 * Takes the lock of `root` (which must exist), or returns undefined if another live process
 * holds it. Unlike a lock file there is nothing stale to clean up after a crash, and unlike a
 * pid file the check and the taking are one atomic step (`bind`). The socket is close-on-exec:
 * the services `hive up` starts do not inherit it, so a leftover service never holds the lock.
 */
export async function acquireRootLock(root: string): Promise<RootLock | undefined> {
  const server: Server = createServer((socket) => socket.destroy());
  const taken = await new Promise<boolean>((resolve, reject) => {
    server.once("error", (e) => {
      if (isErrno(e, "EADDRINUSE")) resolve(false);
      else reject(e);
    });
    server.listen({ path: lockName(root) }, () => resolve(true));
  });
  if (!taken) return undefined;
  server.unref();
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}
