import { ModelName } from "@hyperhive/shared";
import { approvals, approve, deny } from "./approvals.js";
import {
  agentArgument,
  checkedArgument,
  EXIT,
  idArgument,
  intOption,
  onlyPositional,
  parseCommand,
  UsageError,
} from "./args.js";
import { type CommandName, commands } from "./catalog.js";
import { agents, token } from "./commands.js";
import { interactive } from "./confirm.js";
import { cancel, compact, newSession, setModel } from "./controls.js";
import { isMailCommand, runMailCommand } from "./dispatch-mail.js";
import { isReminderCommand, runReminderCommand } from "./dispatch-reminders.js";
import { isFilesCommand, runFilesCommand } from "./files.js";
import { destroy, lifecycle, purge, restartAll } from "./lifecycle.js";
import type { Output } from "./output.js";
import { rootOf } from "./paths.js";
import { up } from "./up.js";

function isHttpUrl(s: string): boolean {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
}

/**
 * Runs one command with its own arguments: parses and checks them (every mistake a UsageError,
 * before anything reaches the hive), then does it. Resolves with the exit code.
 */
export async function runCommand(name: CommandName, rest: string[], out: Output): Promise<number> {
  if (isMailCommand(name)) return runMailCommand(name, rest, out);
  if (isReminderCommand(name)) return runReminderCommand(name, rest, out);
  if (isFilesCommand(name)) return runFilesCommand(name, rest, out);
  switch (name) {
    case "up": {
      const def = commands.up;
      const { values } = parseCommand(def, rest);
      const port = intOption(def, "port", values.port, 7777, { min: 0, max: 65535 });
      const modelUrl = values["model-url"];
      if (modelUrl !== undefined) {
        if (values.offline) {
          throw new UsageError(def, "--offline and --model-url exclude each other: pick one model");
        }
        if (!isHttpUrl(modelUrl)) {
          throw new UsageError(
            def,
            `--model-url must be an http(s) URL, not ${JSON.stringify(modelUrl)}`,
          );
        }
      }
      const root = rootOf(values.root);
      return up(
        {
          root,
          offline: values.offline === true,
          port,
          rotateKeys: values["rotate-keys"] === true,
          ...(modelUrl ? { modelUrl } : {}),
        },
        out,
      );
    }
    case "token": {
      const { values } = parseCommand(commands.token, rest);
      token(rootOf(values.root), values.rotate === true, out);
      return EXIT.ok;
    }
    case "agents": {
      const { values } = parseCommand(commands.agents, rest);
      await agents(rootOf(values.root), values.all === true, out);
      return EXIT.ok;
    }
    case "kill":
    case "start": {
      const def = commands[name];
      const { values, positionals } = parseCommand(def, rest);
      const agent = agentArgument(def, onlyPositional(def, positionals));
      await lifecycle(rootOf(values.root), name, agent, out);
      return EXIT.ok;
    }
    case "restart": {
      const def = commands.restart;
      const { values, positionals } = parseCommand(def, rest);
      const [target] = positionals;
      if (values.all === true) {
        if (target !== undefined) {
          throw new UsageError(def, `--all restarts every agent: drop ${JSON.stringify(target)}`);
        }
        await restartAll(rootOf(values.root), out);
      } else {
        if (target === undefined) throw new UsageError(def, "missing <name> (or --all)");
        await lifecycle(rootOf(values.root), "restart", agentArgument(def, target), out);
      }
      return EXIT.ok;
    }
    case "destroy": {
      const def = commands.destroy;
      const { values, positionals } = parseCommand(def, rest);
      await destroy(rootOf(values.root), agentArgument(def, onlyPositional(def, positionals)), out);
      return EXIT.ok;
    }
    case "purge": {
      const def = commands.purge;
      const { values, positionals } = parseCommand(def, rest);
      const agent = agentArgument(def, onlyPositional(def, positionals));
      const yes = values.yes === true;
      if (!yes && !interactive()) {
        throw new UsageError(
          def,
          `not on a terminal, so nobody can type ${agent} to confirm: add --yes to purge it`,
        );
      }
      await purge(rootOf(values.root), agent, { ask: !yes }, out);
      return EXIT.ok;
    }
    case "approvals": {
      const { values } = parseCommand(commands.approvals, rest);
      const o = { all: values.all === true, diff: values.diff === true };
      await approvals(rootOf(values.root), o, out);
      return EXIT.ok;
    }
    case "approve": {
      const def = commands.approve;
      const { values, positionals } = parseCommand(def, rest);
      const id = idArgument(def, "<id>", onlyPositional(def, positionals));
      return (await approve(rootOf(values.root), id, out)) ? EXIT.ok : EXIT.failed;
    }
    case "deny": {
      const def = commands.deny;
      const { values, positionals } = parseCommand(def, rest);
      const id = idArgument(def, "<id>", onlyPositional(def, positionals));
      if (values.reason?.trim() === "") {
        throw new UsageError(def, "--reason is empty: give one, or leave --reason out");
      }
      return (await deny(rootOf(values.root), id, values.reason, out)) ? EXIT.ok : EXIT.failed;
    }
    case "model": {
      const def = commands.model;
      const { values, positionals } = parseCommand(def, rest);
      const [agent = "", model = ""] = positionals;
      const who = agentArgument(def, agent);
      const to = checkedArgument(def, "a model name", ModelName, model);
      await setModel(rootOf(values.root), who, to, out);
      return EXIT.ok;
    }
    case "compact":
    case "new-session":
    case "cancel": {
      const def = commands[name];
      const { values, positionals } = parseCommand(def, rest);
      const agent = agentArgument(def, onlyPositional(def, positionals));
      const root = rootOf(values.root);
      const verb = { compact, "new-session": newSession, cancel }[name];
      await verb(root, agent, out);
      return EXIT.ok;
    }
  }
}
