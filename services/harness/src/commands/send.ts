import type { SocketHandlers } from "../socket.js";
import type { CommandContext } from "./mod.js";

/** `send`: mail someone as this agent. */
export function send(ctx: CommandContext): SocketHandlers["send"] {
  return (params) => ctx.hive.send(params, ctx.signal);
}
