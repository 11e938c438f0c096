import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Tracks which sockets of `server` carry no request, so closing can destroy them. Node's
 * `closeIdleConnections()` misses sockets that never carried a request (browsers open spares),
 * and those would hold `close()` until they time out. After {@link closing}, a socket is destroyed
 * as soon as its last request is answered.
 */
export function trackQuietSockets(server: Server): { closing(): void } {
  const quiet = new Set<Socket>();
  const busy = new Map<Socket, number>();
  let closing = false;
  server.on("connection", (socket: Socket) => {
    quiet.add(socket);
    socket.once("close", () => {
      quiet.delete(socket);
      busy.delete(socket);
    });
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    quiet.delete(socket);
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const n = (busy.get(socket) ?? 1) - 1;
      if (n > 0) {
        busy.set(socket, n);
        return;
      }
      busy.delete(socket);
      if (socket.destroyed) return;
      if (closing) socket.destroy();
      else quiet.add(socket);
    });
  });
  return {
    closing() {
      closing = true;
      for (const socket of quiet) socket.destroy();
    },
  };
}
