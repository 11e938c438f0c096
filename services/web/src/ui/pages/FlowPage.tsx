import { Header } from "../components/Header.js";
import { FlowPanel } from "../panels/FlowPanel.js";
import type { Flow } from "../state/flow.js";

/** `/flow` (`?agent=`): the message flow of the hive, or of one recipient's mail. */
export function FlowPage({ flow }: { flow: Flow }) {
  return (
    <>
      <Header streams={[flow.stream.status.value]} />
      <main>
        <FlowPanel flow={flow} />
      </main>
    </>
  );
}
