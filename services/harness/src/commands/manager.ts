import { ErrorCode, HiveError } from "@hyperhive/shared";
import type { LifecycleVerb } from "../bridge.js";
import type { SocketHandlers } from "../socket.js";
import type { ManagerTool } from "../tools.js";
import type { CommandContext } from "./mod.js";

/**
 * The manager's verbs, bridged to c0re as requests on `hive.agent.<me>.<verb>`. c0re is the one
 * that decides (it refuses anyone its registry does not know as the manager); a sub-agent's
 * harness refuses at once, without asking, since its MCP server does not even offer them.
 */
export function managerCommands(ctx: CommandContext): Pick<SocketHandlers, ManagerTool> {
  const mustBeManager = (cmd: ManagerTool): void => {
    if (ctx.role !== "manager") {
      throw new HiveError(
        ErrorCode.Forbidden,
        `${cmd} is the manager's; ${ctx.hive.agent} is not the manager`,
      );
    }
  };
  const lifecycle =
    (verb: LifecycleVerb): SocketHandlers[LifecycleVerb] =>
    async (params) => {
      mustBeManager(verb);
      return ctx.hive.lifecycle(verb, params, ctx.signal);
    };
  return {
    request_spawn: async (params) => {
      mustBeManager("request_spawn");
      return ctx.hive.requestSpawn(params, ctx.signal);
    },
    kill: lifecycle("kill"),
    start: lifecycle("start"),
    restart: lifecycle("restart"),
    update: lifecycle("update"),
    request_apply_commit: async (params) => {
      mustBeManager("request_apply_commit");
      return ctx.hive.applyCommit(params, ctx.signal);
    },
  };
}
