import type { AgentName } from "@hyperhive/shared/contract";
import { Header } from "../components/Header.js";
import { AgentHeadPanel } from "../panels/AgentHeadPanel.js";
import { FilesPanel } from "../panels/FilesPanel.js";
import { RemindersPanel } from "../panels/RemindersPanel.js";
import { TerminalPanel } from "../panels/TerminalPanel.js";
import { ThreadsPanel } from "../panels/ThreadsPanel.js";
import { TurnsPanel } from "../panels/TurnsPanel.js";
import type { Hive } from "../state/hive.js";
import type { AgentReminders } from "../state/reminders.js";
import type { Threads } from "../state/threads.js";
import type { Turns } from "../state/turns.js";

/**
 * `/agents/<name>`: the agent's state and model, its open threads, its reminders, its terminal,
 * its live turns, its files and log (read through c0re).
 */
export function AgentPage(props: {
  name: AgentName;
  hive: Hive;
  turns: Turns;
  threads: Threads;
  reminders: AgentReminders;
}) {
  const { name, hive, turns, threads } = props;
  return (
    <>
      <Header streams={[hive.stream.status.value, turns.stream.status.value]} />
      <main>
        <AgentHeadPanel name={name} hive={hive} turns={turns} />
        <ThreadsPanel name={name} threads={threads} />
        <RemindersPanel name={name} reminders={hive.reminders} mine={props.reminders} />
        <TerminalPanel name={name} hive={hive} />
        <TurnsPanel turns={turns} />
        <FilesPanel name={name} />
      </main>
    </>
  );
}
