import { createServer } from "node:net";
import { isErrno } from "@hyperhive/shared";

/**
 * Whether a TCP port can be listened on at `host` right now: binds it and lets it go at once.
 * Only EADDRINUSE means taken; any other failure (EACCES for a low port, ...) is thrown.
 */
export async function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve, reject) => {
    server.once("error", (e) => {
      if (isErrno(e, "EADDRINUSE")) resolve(false);
      else reject(e);
    });
    server.listen({ port, host, exclusive: true }, () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}
