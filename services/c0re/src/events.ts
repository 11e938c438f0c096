import {
  type AgentLifecycleEvent,
  type AgentName,
  type Approval,
  ApprovalEvent,
  AgentLifecycleEvent as LifecycleSchema,
  type Logger,
  type NatsConnection,
  publishEvent,
  type Question,
  QuestionEvent,
  Roster,
  subjects,
} from "@hyperhive/shared";
import type { z } from "zod";

/**
 * The facts c0re publishes, each checked against its schema on the way out. Publishing is
 * synchronous (into the connection's buffer), so facts go out in the order they happened; a
 * failure (connection closed) is logged, never thrown into the change that caused it.
 */
export class Events {
  readonly #nc: NatsConnection;
  readonly #log: Logger;

  constructor(nc: NatsConnection, log: Logger) {
    this.#nc = nc;
    this.#log = log;
  }

  /** `hive.events.agent.<name>.lifecycle`. */
  lifecycle(
    agent: AgentName,
    event: AgentLifecycleEvent["event"],
    at: number,
    detail?: string,
  ): void {
    this.#publish(subjects.events.agentLifecycle(agent), LifecycleSchema, {
      agent,
      event,
      at,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  /** `hive.events.approvals`: an approval was created or changed. */
  approval(approval: Approval): void {
    this.#publish(subjects.events.approvals, ApprovalEvent, { approval });
  }

  /** `hive.events.questions`: a question was asked or closed. */
  question(question: Question): void {
    this.#publish(subjects.events.questions, QuestionEvent, { question });
  }

  /** `hive.events.roster`. */
  roster(roster: Roster): void {
    this.#publish(subjects.events.roster, Roster, roster);
  }

  #publish<T extends z.ZodType>(subject: string, schema: T, event: z.input<T>): void {
    try {
      publishEvent(this.#nc, subject, schema, event);
    } catch (err) {
      this.#log.warn({ err, subject }, "could not publish an event");
    }
  }
}
