import { LiveEventView } from "../components/LiveEventView.js";
import { Panel } from "../components/Panel.js";
import { clock } from "../lib/format.js";
import type { Turns } from "../state/turns.js";

/** Agent page: its turns as they stream in, newest first. */
export function TurnsPanel({ turns }: { turns: Turns }) {
  const list = turns.turns.value;
  return (
    <Panel id="turns-panel" title="Live turns">
      <div id="turns" class="turns">
        {list.length === 0 && (
          <p class="empty muted" id="turns-empty">
            waiting for a turn…
          </p>
        )}
        {list.map((t) => (
          <article key={t.id} class={t.active ? "turn active" : "turn"} data-turn={t.id}>
            <header class="turn-head">
              <span class="turn-id muted">{t.id}</span>
              <span class="muted">{clock(t.at)}</span>
            </header>
            <div class="turn-body">
              {t.events.map((ev) => (
                <LiveEventView key={ev.seq} ev={ev} />
              ))}
            </div>
          </article>
        ))}
      </div>
    </Panel>
  );
}
