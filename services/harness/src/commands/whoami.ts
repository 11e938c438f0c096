import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

/** `whoami`: who this agent is, from the harness itself (not from what its prompt says). */
export function whoami(ctx: CommandContext): SocketHandlers["whoami"] {
  return async () => ctx.whoami();
}
