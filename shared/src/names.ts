import * as z from "zod";

/** The operator's mailbox name: mail sent `to: "operator"` shows in the dashboard inbox. */
export const OPERATOR = "operator";
/** Sender name of messages c0re drops into inboxes (e.g. "you were restarted"). */
export const SYSTEM = "system";
/** Sender name of the messages the scheduler delivers (due reminders). */
export const REMINDER = "reminder";
/** Name of the manager agent started with the hive. */
export const MANAGER = "manager";

/**
 * An agent's name. It is a NATS subject token and a directory name, so it is kept short and
 * plain: a lowercase letter, then up to 8 lowercase letters, digits or dashes.
 */
export const AgentName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,8}$/, "agent names are 1-9 chars: a-z first, then a-z, 0-9 or -")
  .refine((n) => n !== OPERATOR && n !== SYSTEM, "operator and system are reserved names")
  .refine((n) => n !== REMINDER, "reminder is a reserved name (the scheduler's messages)");
export type AgentName = z.infer<typeof AgentName>;

/** Who a message may be addressed to: an agent or the operator. */
export const Recipient = z.union([z.literal(OPERATOR), AgentName]);
export type Recipient = z.infer<typeof Recipient>;

/** The address of a broadcast: every agent of the hive but the sender. */
export const BROADCAST = "*";

/** What a send may be addressed to: a recipient, or `*` for a broadcast. */
export const SendTarget = z.union([Recipient, z.literal(BROADCAST)]);
export type SendTarget = z.infer<typeof SendTarget>;

/** Who a message may come from: an agent, the operator, system, or a wake label. */
export const Sender = z.string().min(1).max(64);
export type Sender = z.infer<typeof Sender>;
