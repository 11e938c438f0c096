import type { AgentName } from "@hyperhive/shared/contract";
import { Header } from "../components/Header.js";
import { AgentHeadPanel } from "../panels/AgentHeadPanel.js";
import { TerminalPanel } from "../panels/TerminalPanel.js";
import { TurnsPanel } from "../panels/TurnsPanel.js";
import type { Hive } from "../state/hive.js";
import type { Turns } from "../state/turns.js";

/** `/agents/<name>`: the agent's state and model, its terminal, and its live turns. */
export function AgentPage({ name, hive, turns }: { name: AgentName; hive: Hive; turns: Turns }) {
  return (
    <>
      <Header streams={[hive.stream.status.value, turns.stream.status.value]} />
      <main>
        <AgentHeadPanel name={name} hive={hive} />
        <TerminalPanel name={name} hive={hive} />
        <TurnsPanel turns={turns} />
      </main>
    </>
  );
}
