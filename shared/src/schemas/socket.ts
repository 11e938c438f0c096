import * as z from "zod";
import { WireError } from "../errors.js";
import { AgentName, Recipient, Sender } from "../names.js";
import { ApprovalResponse } from "./approvals.js";
import { Body, MessageFields, MessageId, SendResponse } from "./broker.js";
import {
  AgentLifecycleRequest,
  AgentLifecycleResponse,
  AgentRole,
  ApplyCommitRequest,
  SpawnRequest,
} from "./c0re.js";
import { ModelName } from "./config.js";

/**
 * The per-agent unix socket between the harness and processes in its container (the MCP server
 * claude runs, `hive-harness wake`): one JSON object per line each way. Every command has its
 * params and its result schema here; the error half of a reply is the wire error of every
 * request. Both ends parse with these (strictly), so neither re-declares a shape.
 */

/** Correlates a reply line with its request line; chosen by the client. */
export const SocketRequestId = z.number().int();

/** `send`: mail someone as this agent. */
export const SocketSendParams = z.strictObject({
  to: Recipient,
  body: Body,
  in_reply_to: MessageId.optional(),
});

/** `recv`: lease the next message (long-poll). */
export const SocketRecvParams = z.strictObject({
  /** Seconds to wait when nothing is pending; default 30, capped at 180. */
  wait_seconds: z.number().min(0).optional(),
});

/** A message as the agent's tools show it: a wake shows its label as the sender. */
export const SocketMessage = MessageFields.omit({ to: true }).extend({
  redelivered: z.boolean(),
});
export type SocketMessage = z.infer<typeof SocketMessage>;

export const SocketRecvResult = z.strictObject({
  message: SocketMessage.nullable(),
  /** Messages still deliverable after this one. */
  pending: z.number().int().nonnegative(),
});
export type SocketRecvResult = z.infer<typeof SocketRecvResult>;

/** `wake`: put a message from `<label>` in this agent's own inbox (from any process inside). */
export const SocketWakeParams = z.strictObject({
  /** Label shown as the sender, e.g. "webhook: deploy succeeded". */
  from: Sender,
  body: Body,
});

export const SocketWakeResult = z.strictObject({
  /** Id of the inbox message the wake became. */
  id: MessageId,
});

/** `whoami`: who this agent is, as its harness knows it (not as its prompt says). */
export const WhoAmIParams = z.strictObject({});

export const WhoAmI = z.strictObject({
  name: AgentName,
  role: AgentRole,
  /** The model the agent's next turn uses. */
  model: ModelName,
  /** The harness's package version. */
  version: z.string(),
  /** The hyperhive source revision (a git commit) the hive runs, when known. */
  rev: z.string().nullable(),
  /** Unix ms when this harness started. */
  started_at: z.number().int(),
  /** The agent's durable state dir (its cwd; the same path outside its container). */
  state_dir: z.string(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

/**
 * The catalog: every socket command with its params and result schemas. A request line is
 * `{id, cmd, ...params}` (the params checked strictly against `socketCommands[cmd].params`); a
 * new command is one entry here and one handler in the harness.
 */
export const socketCommands = {
  send: { params: SocketSendParams, result: SendResponse },
  recv: { params: SocketRecvParams, result: SocketRecvResult },
  wake: { params: SocketWakeParams, result: SocketWakeResult },
  whoami: { params: WhoAmIParams, result: WhoAmI },
  /** The manager's verbs, bridged to c0re on `hive.agent.<me>.<verb>` (refused to sub-agents). */
  request_spawn: { params: SpawnRequest, result: ApprovalResponse },
  kill: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  start: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  restart: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  update: { params: AgentLifecycleRequest, result: AgentLifecycleResponse },
  request_apply_commit: { params: ApplyCommitRequest, result: ApprovalResponse },
} as const;
export type SocketCommands = typeof socketCommands;
export type SocketCommandName = keyof SocketCommands;
export type SocketParams<C extends SocketCommandName> = z.infer<SocketCommands[C]["params"]>;
export type SocketResult<C extends SocketCommandName> = z.infer<SocketCommands[C]["result"]>;

/** One reply line: the result (checked against the command's result schema) or a wire error. */
export const SocketResponse = z.union([
  z.strictObject({ id: SocketRequestId, ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ id: SocketRequestId.nullable(), ok: z.literal(false), error: WireError }),
]);
export type SocketResponse = z.infer<typeof SocketResponse>;
