import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { type Logger, MessageId, PreviousAction } from "@hyperhive/shared";
import { z } from "zod";

/** The file in the state dir: what turns on each recent message sent and asked. */
export const ACTIONS_FILE = "hyperhive-turn-actions.json";
/** Messages remembered (the newest); older ones are long acked. */
export const MAX_REMEMBERED = 200;
/** Actions remembered per message; a turn that sends more is looping anyway. */
export const MAX_ACTIONS = 20;

/** Which message: its id, and its `sent_at` (so a reset broker's reused id is not mistaken). */
export interface MessageKey {
  id: number;
  sent_at: number;
}

const Entry = z.strictObject({
  id: MessageId,
  sent_at: z.number().int(),
  actions: z.array(PreviousAction),
});
type Entry = z.infer<typeof Entry>;
const ActionsFile = z.strictObject({ messages: z.array(Entry) });

/**
 * What the turns on each message did (`send`, `ask_operator`, `ask`), kept in the state dir as
 * each action succeeds: a turn that dies after sending (a crash, a lost ack, a failed turn) leaves
 * its message to come again, and the next turn on it is told what was already sent, so claude can
 * choose not to answer twice. Each write is fsynced before the tool's answer goes back to claude.
 * Entries are not dropped on ack: an ack may be lost (it is not fsynced by the broker either), and
 * the message then comes again; the file keeps the newest {@link MAX_REMEMBERED} messages.
 */
export class ActionLog {
  readonly #path: string;
  readonly #log: Logger;
  #entries: Entry[];

  constructor(o: { stateDir: string; log: Logger }) {
    this.#path = join(o.stateDir, ACTIONS_FILE);
    this.#log = o.log;
    this.#entries = this.#load();
  }

  /** What earlier turns on this message did, oldest first. */
  previous(m: MessageKey): PreviousAction[] {
    return [...(this.#find(m)?.actions ?? [])];
  }

  /** Records one action against every message the turn is on; durable when this returns. */
  record(messages: readonly MessageKey[], action: PreviousAction): void {
    for (const m of messages) {
      let e = this.#find(m);
      if (!e) {
        e = { id: m.id, sent_at: m.sent_at, actions: [] };
        this.#entries.push(e);
      }
      if (e.actions.length < MAX_ACTIONS) e.actions.push(action);
    }
    this.#entries = this.#entries.slice(-MAX_REMEMBERED);
    try {
      writeDurably(this.#path, `${JSON.stringify({ messages: this.#entries })}\n`);
    } catch (e) {
      // The action itself happened; only the memory of it is at risk (kept in this process).
      this.#log.error({ err: e, path: this.#path }, "could not write the turn actions file");
    }
  }

  #find(m: MessageKey): Entry | undefined {
    return this.#entries.find((e) => e.id === m.id && e.sent_at === m.sent_at);
  }

  #load(): Entry[] {
    let text: string;
    try {
      text = readFileSync(this.#path, "utf8");
    } catch {
      return [];
    }
    try {
      const parsed = ActionsFile.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data.messages;
      this.#log.warn({ path: this.#path }, "turn actions file does not parse; starting afresh");
    } catch {
      this.#log.warn({ path: this.#path }, "turn actions file is not JSON; starting afresh");
    }
    return [];
  }
}

/**
 * The memory of one held message's turns: the messages they are on (the one that woke them,
 * and what a mid-turn recv added) and what they did, recorded against each of them.
 */
export class TurnMemory {
  readonly #messages: MessageKey[] = [];

  constructor(
    private readonly log: ActionLog,
    first: MessageKey,
  ) {
    this.cover(first);
  }

  /** A message the turn now holds too (a mid-turn recv): what it does next may answer it. */
  cover(m: MessageKey): void {
    if (!this.#messages.some((k) => k.id === m.id)) {
      this.#messages.push({ id: m.id, sent_at: m.sent_at });
    }
  }

  record(action: PreviousAction): void {
    this.log.record(this.#messages, action);
  }
}

/**
 * Temp file (owner-only: it quotes the agent's mail), fsync, rename, fsync of the directory: the
 * new content survives a power cut too.
 */
function writeDurably(path: string, data: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  // A stale temp file of a dead process with this pid would keep its own mode.
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
