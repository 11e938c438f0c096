import type { AgentName } from "@hyperhive/shared/contract";
import { useSignal } from "@preact/signals";
import type { RemindBody } from "../../wire.js";
import { useAction } from "../lib/action.js";
import { ApiFailure, remind } from "../lib/api.js";
import { duration } from "../lib/format.js";
import type { Reminders } from "../state/reminders.js";
import { ActionStatus } from "./ActionStatus.js";
import { Checkbox } from "./Checkbox.js";

/** The units the form counts in, in seconds. */
const UNITS = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;
type Unit = keyof typeof UNITS;
const isUnit = (u: string): u is Unit => Object.hasOwn(UNITS, u);

/** A number and its unit, as a form has them. */
interface Amount {
  n: string;
  unit: Unit;
}

const seconds = (a: Amount) => Math.round(Number(a.n) * UNITS[a.unit]);

/**
 * What the form asks for: the text, then `in_seconds` or `at` (the local time picked, as an ISO
 * time with its offset), and `every_seconds` when it repeats. The schema checks the rest on send.
 */
function remindBody(f: {
  body: string;
  mode: "in" | "at";
  in: Amount;
  at: string;
  repeat: Amount | null;
}): RemindBody {
  const when: Pick<RemindBody, "in_seconds" | "at"> = {};
  if (f.mode === "in") {
    when.in_seconds = seconds(f.in);
  } else {
    const at = new Date(f.at);
    if (Number.isNaN(at.getTime())) throw new ApiFailure("bad_request", "pick a time", 0);
    when.at = at.toISOString();
  }
  return {
    body: f.body.trim(),
    ...when,
    ...(f.repeat === null ? {} : { every_seconds: seconds(f.repeat) }),
  };
}

/** A number input and a unit select, for "in N minutes" and "every N hours". */
function AmountInput(props: {
  id: string;
  value: Amount;
  units: readonly Unit[];
  disabled?: boolean;
  set(a: Amount): void;
}) {
  const { value, set } = props;
  return (
    <>
      <input
        id={props.id}
        type="number"
        min={1}
        step={1}
        required
        disabled={props.disabled}
        value={value.n}
        onInput={(e) => set({ ...value, n: e.currentTarget.value })}
      />
      <select
        id={`${props.id}-unit`}
        disabled={props.disabled}
        value={value.unit}
        onChange={(e) => {
          const u = e.currentTarget.value;
          if (isUnit(u)) set({ ...value, unit: u });
        }}
      >
        {props.units.map((u) => (
          <option key={u} value={u}>
            {u}
          </option>
        ))}
      </select>
    </>
  );
}

/**
 * Agent page: the operator sets a reminder for the agent — its text, in N seconds, minutes, hours
 * or days, or at a time, and optionally repeating every N minutes, hours or days (at least a
 * minute). A refusal shows inline: the scheduler's `limit_exceeded` says which limit.
 */
export function RemindForm({ agent, reminders }: { agent: AgentName; reminders: Reminders }) {
  const body = useSignal("");
  const mode = useSignal<"in" | "at">("in");
  const inAmount = useSignal<Amount>({ n: "10", unit: "minutes" });
  const at = useSignal("");
  const repeat = useSignal(false);
  const every = useSignal<Amount>({ n: "1", unit: "hours" });
  const action = useAction();

  const submit = () =>
    action.run(
      () =>
        remind(
          agent,
          remindBody({
            body: body.value,
            mode: mode.value,
            in: inAmount.value,
            at: at.value,
            repeat: repeat.value ? every.value : null,
          }),
        ),
      (r) => {
        reminders.note([r.reminder]);
        body.value = "";
        const left = Math.max(0, Math.round((r.reminder.due_at - Date.now()) / 1000));
        return `set #${r.reminder.id}, due in ${duration(left)}`;
      },
    );
  const radio = (value: "in" | "at", label: string) => (
    <label>
      <input
        type="radio"
        name="remind-when"
        id={`remind-mode-${value}`}
        value={value}
        checked={mode.value === value}
        onChange={() => {
          mode.value = value;
        }}
      />{" "}
      {label}
    </label>
  );

  return (
    <form
      id="remind-form"
      class="remind-form"
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        id="remind-body"
        rows={2}
        required
        maxLength={2000}
        placeholder={`remind ${agent} to…`}
        value={body.value}
        onInput={(e) => {
          body.value = e.currentTarget.value;
        }}
      />
      <div class="form-row">
        {radio("in", "in")}
        <AmountInput
          id="remind-in"
          value={inAmount.value}
          units={["seconds", "minutes", "hours", "days"]}
          disabled={mode.value !== "in"}
          set={(a) => {
            inAmount.value = a;
          }}
        />
        {radio("at", "at")}
        <input
          id="remind-at"
          type="datetime-local"
          step={1}
          disabled={mode.value !== "at"}
          required={mode.value === "at"}
          value={at.value}
          onInput={(e) => {
            at.value = e.currentTarget.value;
          }}
        />
      </div>
      <div class="form-row">
        <Checkbox id="remind-repeat" checked={repeat} label="repeat every" />
        <AmountInput
          id="remind-every"
          value={every.value}
          units={["minutes", "hours", "days"]}
          disabled={!repeat.value}
          set={(a) => {
            every.value = a;
          }}
        />
      </div>
      <div class="form-row">
        <button type="submit" id="remind-button" disabled={action.busy.value}>
          set reminder
        </button>
        <ActionStatus id="remind-status" action={action} />
      </div>
    </form>
  );
}
