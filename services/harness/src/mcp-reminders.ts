import {
  type Clock,
  MIN_REMINDER_EVERY_SECONDS,
  OPERATOR,
  type Reminder,
  SocketCancelReminderParams,
  SocketMyRemindersParams,
  SocketRemindParams,
} from "@hyperhive/shared";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { answer, span } from "./mcp-text.js";
import { quote } from "./message-text.js";
import type { SocketCaller } from "./socket-client.js";

/** A time as the reminder tools show it: UTC ISO-8601 to the second. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A time and how far it is from now: `2026-12-05T09:00:00Z (in 10 min)`, `… (5 s ago)`. Rounded
 * to the second first: a reminder set for 600 s reads "in 10 min" though a few ms have passed.
 */
export function when(at: number, now: number): string {
  const d = Math.round((at - now) / 1000) * 1000;
  return `${utc(at)} (${d >= 0 ? `in ${span(d)}` : `${span(-d)} ago`})`;
}

/** A repeat period exactly: the largest unit that divides it (`90 min`, not `1 h`). */
export function period(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

/** How the delivery of its current occurrence is failing, if it is. */
function failing(r: Reminder, now: number): string {
  if (r.attempt_count === 0 || r.last_error === null) return "";
  const next = r.retry_at === null ? "" : `; next try at ${when(r.retry_at, now)}`;
  const tries = `${r.attempt_count} ${r.attempt_count === 1 ? "try" : "tries"}`;
  return ` — delivery failing after ${tries}: ${r.last_error}${next}`;
}

/** How a reminder just set reads: its id, when it is due, how it will arrive. */
export function formatReminded(r: Reminder, now: number): string {
  const repeat =
    r.every_seconds === null ? "" : `, then every ${period(r.every_seconds)} until cancelled`;
  return (
    `reminder #${r.id} set: "${quote(r.body)}" — due at ${when(r.due_at, now)}${repeat}. ` +
    `It will arrive in your inbox as a message from \`reminder\` quoting its id and text; ` +
    `cancel_reminder(${r.id}) if it stops mattering.`
  );
}

/** How a reminder just cancelled reads: what it was, and that it will not fire. */
export function formatReminderCancelled(r: Reminder, now: number): string {
  const was =
    r.every_seconds === null
      ? `it was due at ${when(r.due_at, now)} and will not fire`
      : `it repeated every ${period(r.every_seconds)} (delivered ${times(r.delivered_count)}; ` +
        `next due at ${when(r.due_at, now)}) and will not fire again`;
  return `reminder #${r.id} cancelled: "${quote(r.body)}" — ${was}.`;
}

/**
 * One reminder in `list_my_reminders`: when (it is due, was delivered or cancelled), its period,
 * who set it when it was not the agent (the operator may), the text, a failing delivery.
 */
function reminderLine(r: Reminder, now: number): string {
  const every = r.every_seconds === null ? "" : `, every ${period(r.every_seconds)}`;
  const delivered = r.delivered_count === 0 ? "" : `, delivered ${times(r.delivered_count)}`;
  const by =
    r.created_by === r.owner
      ? ""
      : `, set by ${r.created_by === OPERATOR ? "the operator" : r.created_by}`;
  let state: string;
  switch (r.state) {
    case "pending":
      state = `due at ${when(r.due_at, now)}${every}${delivered}`;
      break;
    case "delivered":
      state = `delivered at ${when(r.last_delivered_at ?? r.due_at, now)}${every}`;
      break;
    case "cancelled":
      state = `cancelled at ${when(r.cancelled_at ?? r.due_at, now)}${every}${delivered}`;
      break;
  }
  const failure = r.state === "pending" ? failing(r, now) : "";
  return `#${r.id} ${state}${by}: "${quote(r.body)}"${failure}`;
}

/** What `list_my_reminders` reads as: one line per reminder, in the scheduler's order. */
export function formatReminders(
  rs: readonly Reminder[],
  truncated: boolean,
  all: boolean,
  now: number,
): string {
  if (rs.length === 0) return all ? "(you have no reminders)" : "(no pending reminders)";
  const n = rs.length;
  const head = `${n} ${all ? "" : "pending "}reminder${n === 1 ? "" : "s"} of yours, soonest first:`;
  const more = truncated ? ["(and more, not listed)"] : [];
  return [head, ...rs.map((r) => reminderLine(r, now)), ...more].join("\n");
}

/**
 * Reminders, for every agent: each tool one socket command, which the harness bridges to the
 * scheduler (`hive.agent.<me>.{remind,reminders,cancel_reminder}`). `clock` dates what they read
 * back (how far off a time is).
 */
export function registerReminderTools(server: McpServer, call: SocketCaller, clock: Clock): void {
  const p = SocketRemindParams.shape;
  server.registerTool(
    "remind",
    {
      description:
        "Set a reminder for yourself. When it is due it arrives in your inbox as a message from " +
        "`reminder` (`reminder #N: <your text>`) and wakes you like any mail, even if you ended " +
        "your turn or the hive restarted meanwhile. Use it to come back to something you are " +
        "waiting on (a build, a reply that should have come) or for periodic checks " +
        "(every_seconds), instead of polling or staying in the turn. Give exactly one of " +
        "in_seconds or at. Returns at once with the reminder's id and when it is due (UTC). " +
        "Limits are per agent (how many pending at once, how fast you set them); a refusal " +
        "(limit_exceeded) says the limit: cancel reminders you no longer need, or wait.",
      // The socket's own param schemas: a bad argument is a tool error before anything is sent.
      inputSchema: {
        body: p.body.describe(
          "What to remind yourself of, self-contained: it is all you will see when it fires " +
            "(up to 2000 characters).",
        ),
        in_seconds: p.in_seconds.describe(
          "Due this many seconds from now (1 s to a year). Give this or at.",
        ),
        at: p.at.describe(
          "Due at this time: ISO-8601 with its offset, e.g. 2026-12-05T09:00:00Z (at most a " +
            "year ahead). Give this or in_seconds.",
        ),
        every_seconds: p.every_seconds.describe(
          `Optional: repeat every this many seconds after the first (at least ${MIN_REMINDER_EVERY_SECONDS}) until cancelled.`,
        ),
      },
    },
    (params) => answer(call("remind", params).then((r) => formatReminded(r.reminder, clock.now()))),
  );
  server.registerTool(
    "list_my_reminders",
    {
      description:
        "Your own reminders, soonest first: the id, when each is due (UTC, and how far off), " +
        "its period if it repeats, and a delivery that is failing. Pending ones only unless " +
        "`all` (delivered and cancelled ones too). Nobody else's are shown.",
      inputSchema: {
        all: SocketMyRemindersParams.shape.all.describe(
          "Optional: delivered and cancelled ones too (default false).",
        ),
      },
    },
    (params) =>
      answer(
        call("list_my_reminders", params).then((r) =>
          formatReminders(r.reminders, r.truncated, params.all === true, clock.now()),
        ),
      ),
  );
  server.registerTool(
    "cancel_reminder",
    {
      description:
        "Cancel one of your own pending reminders; a repeating one stops for good. Nobody " +
        "else's can be cancelled.",
      inputSchema: {
        id: SocketCancelReminderParams.shape.reminder_id.describe(
          "The reminder's id: the N of `reminder #N` (from remind, list_my_reminders, or its message).",
        ),
      },
    },
    ({ id }) =>
      answer(
        call("cancel_reminder", { reminder_id: id }).then((r) =>
          formatReminderCancelled(r.reminder, clock.now()),
        ),
      ),
  );
}
