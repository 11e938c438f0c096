import {
  type InboxMessage,
  MAX_BODY_BYTES,
  mayRetry,
  type RetryPolicy,
  retryDelay,
} from "@hyperhive/shared";
import { displaySender } from "./claude.js";
import type { LeaseSet } from "./leases.js";
import type { ActionLog, TurnMemory } from "./turn-memory.js";
import type { TurnEnd, TurnInput } from "./turn-runner.js";

/** How a held message is tried again. */
export interface HeldRetry {
  /** A turn ended "Not logged in": no last try; the message waits, leased, for a login. */
  login: RetryPolicy;
  /** A turn failed otherwise: after `maxAttempts` failed turns it is let go of. */
  turn: RetryPolicy;
}

/** A message the loop has just received, and what goes with it. */
export interface HeldMessageOptions {
  msg: InboxMessage;
  /** Messages waiting after it when it was received. */
  pending: number;
  leases: LeaseSet;
  /** What its turns send and ask (and what earlier turns on it did, in `actions`). */
  memory: TurnMemory;
  actions: ActionLog;
  retry: HeldRetry;
}

/**
 * The message the loop is on, held (leased, extended) until a turn on it ends for good: its
 * failed turns so far, and whether and when it gets another.
 */
export class HeldMessage {
  #loginFailures = 0;
  #turnFailures = 0;
  /** Why the last failed turn on it failed, for the retry's wake prompt. */
  #lastError: string | undefined;
  /** Whether that was the operator cancelling it. */
  #lastCancelled = false;
  /** Pause before the next try; set when a turn on it failed. */
  retryInMs = 0;

  readonly msg: InboxMessage;
  readonly leases: LeaseSet;
  readonly memory: TurnMemory;
  readonly #o: HeldMessageOptions;

  constructor(o: HeldMessageOptions) {
    this.#o = o;
    this.msg = o.msg;
    this.leases = o.leases;
    this.memory = o.memory;
  }

  /**
   * The next turn on it; a retry after a failed turn says which try it is, and why; a redelivery
   * or a retry says what earlier turns on it already sent.
   */
  turnInput(): TurnInput {
    const again = this.msg.redelivered || this.#lastError !== undefined;
    const t: TurnInput = {
      msg: this.msg,
      pending: this.#o.pending,
      previous: again ? this.#o.actions.previous(this.msg) : [],
    };
    if (this.#lastError !== undefined) {
      t.retry = {
        attempt: this.#turnFailures + 1,
        lastError: this.#lastError,
        ...(this.#lastCancelled ? { cancelled: true } : {}),
      };
    }
    return t;
  }

  /** After a turn on it: whether it gets another (after {@link retryInMs}) instead of its ack. */
  tryAgain(end: TurnEnd): boolean {
    if (end.kind === "needs_login") {
      this.retryInMs = retryDelay(this.#o.retry.login, ++this.#loginFailures);
      return true;
    }
    if (end.kind !== "error") return false;
    // A cancelled turn counts as a failed one: the message is neither lost nor retried forever.
    this.#lastError = end.note;
    this.#lastCancelled = end.cancelled === true;
    if (!mayRetry(this.#o.retry.turn, ++this.#turnFailures)) return false;
    this.retryInMs = retryDelay(this.#o.retry.turn, this.#turnFailures);
    return true;
  }

  /**
   * What the operator is told when every try failed and the message is let go of (retrying
   * forever would block the inbox): which message, from whom, and the last error.
   */
  giveUpNotice(agent: string, note: string): string {
    const from = displaySender(agent, this.msg).from;
    const body =
      `[hyperhive] ${agent} gave up on message #${this.msg.id} from ${from} ` +
      `after ${this.#turnFailures} failed turns. Last error: ${note}`;
    return truncateBytes(body, MAX_BODY_BYTES);
  }
}

/** Cuts text to at most `max` UTF-8 bytes (on a character boundary). */
function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, "utf8") <= max) return text;
  let out = text.slice(0, max);
  while (Buffer.byteLength(`${out}…`, "utf8") > max) out = out.slice(0, -1);
  return `${out}…`;
}
