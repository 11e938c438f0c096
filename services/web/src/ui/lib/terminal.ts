/**
 * The agent page's terminal: what a typed line means (a slash command or a message) and what
 * running it says back. The requests go through the web's API to the agent's harness
 * (`hive.op.ctl.<agent>.*`) or, for a message, to the broker.
 */
import type { AgentName } from "@hyperhive/shared/contract";
import { cancelTurn, compactSession, newSession, sendMessage, setModel } from "./api.js";
import { newClientId } from "./format.js";

/** A typed line, understood. */
export type Command =
  | { kind: "model"; model: string }
  | { kind: "show_model" }
  | { kind: "compact" }
  | { kind: "new_session" }
  | { kind: "cancel" }
  | { kind: "help" }
  | { kind: "send"; body: string }
  | { kind: "invalid"; message: string };

/** The commands, as `/help` lists them. */
export const HELP: ReadonlyArray<readonly [string, string]> = [
  ["/model <name>", "the next turn, and every one after, uses this model (kept across restarts)"],
  ["/model", "the model its next turn uses"],
  ["/compact", "compact its session now (when it is idle)"],
  ["/new-session", "its next turn starts a fresh claude session"],
  ["/cancel", "kill the running turn; its message is retried, or handed back to you"],
  ["/help", "this list"],
  ["anything else", "sent to the agent as a message from you (//text sends /text)"],
];

const NO_ARGS: Readonly<Record<string, Command>> = {
  "/compact": { kind: "compact" },
  "/new-session": { kind: "new_session" },
  "/cancel": { kind: "cancel" },
  "/help": { kind: "help" },
};

/** What `line` asks for; null for a blank line. */
export function parseLine(line: string): Command | null {
  const text = line.trim();
  if (text === "") return null;
  if (text.startsWith("//")) return { kind: "send", body: text.slice(1) };
  if (!text.startsWith("/")) return { kind: "send", body: text };
  const [cmd = "", ...args] = text.split(/\s+/);
  if (cmd === "/model") {
    if (args.length === 0) return { kind: "show_model" };
    if (args.length === 1 && args[0] !== undefined) return { kind: "model", model: args[0] };
    return { kind: "invalid", message: "usage: /model <name>" };
  }
  const known = NO_ARGS[cmd];
  if (known === undefined) {
    return { kind: "invalid", message: `unknown command ${cmd}: /help lists them` };
  }
  if (args.length > 0) return { kind: "invalid", message: `${cmd} takes no arguments` };
  return known;
}

/** The commands that go to the hive (the others are answered on the page). */
export type RemoteCommand = Extract<
  Command,
  { kind: "model" | "compact" | "new_session" | "cancel" | "send" }
>;

/** Runs a command against the agent; resolves with what to show, rejects with an ApiFailure. */
export async function runCommand(agent: AgentName, c: RemoteCommand): Promise<string> {
  switch (c.kind) {
    case "model": {
      const r = await setModel(agent, c.model);
      return `model ${r.model} (was ${r.previous}): its next turn uses it`;
    }
    case "compact": {
      const r = await compactSession(agent);
      return `compacting as turn ${r.turn_id}: the state badge and the live turns show it`;
    }
    case "new_session":
      await newSession(agent);
      return "its next turn starts a fresh session";
    case "cancel": {
      const r = await cancelTurn(agent);
      if (!r.cancelled) return "no turn was running";
      return `cancelled turn ${r.turn_id}: a failed try, so its message is retried (or handed back to you after the last try)`;
    }
    case "send": {
      const r = await sendMessage({ to: agent, body: c.body, client_id: newClientId() });
      return `sent #${r.id} to ${agent}`;
    }
  }
}
