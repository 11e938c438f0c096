import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The kernel's range of ephemeral ports, from which outgoing connections take their local port. */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined) return { low, high };
  } catch {
    // Not Linux: the IANA range.
  }
  return { low: 49152, high: 65535 };
}

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on every address of this machine now, and below the ephemeral range, for a
 * container port that must keep its host port across a restart. From the ephemeral range (what
 * `listen(0)` picks) it could be taken in the meantime as the local port of any outgoing
 * connection on the machine, and the restarted container could not publish it again.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralRange();
  const from = Math.max(1024, low - 10_000);
  for (let tries = 0; tries < 100; tries++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await listenable(port)) return port;
  }
  throw new Error(`no free port in ${from}-${low - 1}`);
}
