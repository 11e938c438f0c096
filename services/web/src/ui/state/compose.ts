import { AgentName, type StoredMessage } from "@hyperhive/shared/contract";
import { type Signal, signal } from "@preact/signals";

/** What a reply answers, as the send form shows it. */
export interface ReplyTarget {
  readonly id: number;
  readonly from: string;
  /** The start of its body. */
  readonly quote: string;
}

/** The send form's draft: whom to, the text, and the message it replies to (if any). */
export interface Compose {
  /** An agent's name, `*` for every agent, or "" (the form's default). */
  readonly to: Signal<string>;
  readonly body: Signal<string>;
  readonly replyTo: Signal<ReplyTarget | null>;
  /** Bumped on each reply, so the form takes the focus. */
  readonly focus: Signal<number>;
  /** Starts a reply to `m`: to its sender, in reply to it. */
  reply(m: StoredMessage): void;
  /** Whether the operator can reply to `m` by mail (its sender is an agent). */
  canReply(m: StoredMessage): boolean;
}

const QUOTE_CHARS = 80;

/** A {@link Compose} shared by the dashboard's send form and inbox. */
export function createCompose(): Compose {
  const to = signal("");
  const body = signal("");
  const replyTo = signal<ReplyTarget | null>(null);
  const focus = signal(0);
  // `system`, a wake label or the operator itself cannot be written to.
  const canReply = (m: StoredMessage) => AgentName.safeParse(m.from).success;
  return {
    to,
    body,
    replyTo,
    focus,
    canReply,
    reply(m) {
      if (!canReply(m)) return;
      to.value = m.from;
      const quote = m.body.length > QUOTE_CHARS ? `${m.body.slice(0, QUOTE_CHARS - 1)}…` : m.body;
      replyTo.value = { id: m.id, from: m.from, quote };
      focus.value++;
    },
  };
}
