import { createServer } from "node:net";

/**
 * A TCP port free on every address of this machine right now, for a container port that must keep
 * its host port across restarts (Docker may pick another one for a restarted container otherwise).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("no port"));
      });
    });
  });
}
