import { pages } from "../../wire.js";
import type { StreamStatus } from "../lib/stream.js";

const TEXT: Readonly<Record<StreamStatus, string>> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  closed: "disconnected: open the dashboard URL with the token again",
};

/** The worst of several streams' statuses: the page is live only when all of them are. */
function combined(statuses: readonly StreamStatus[]): StreamStatus {
  for (const s of ["closed", "reconnecting", "connecting"] as const) {
    if (statuses.includes(s)) return s;
  }
  return "live";
}

/** The top bar: the brand (a link home), the message flow, and whether the live streams are up. */
export function Header(props: { streams: readonly StreamStatus[] }) {
  const status = combined(props.streams);
  return (
    <header class="top">
      <nav class="nav">
        <a class="brand" href={pages.dashboard.path}>
          hyperhive
        </a>
        <a id="nav-flow" href={pages.flow.url()}>
          message flow
        </a>
      </nav>
      <span
        id="conn"
        class={status === "live" ? "conn ok" : "conn bad"}
        title="live event stream"
        data-status={status}
      >
        {TEXT[status]}
      </span>
    </header>
  );
}
