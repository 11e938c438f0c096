import type { AgentName } from "@hyperhive/shared/contract";
import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import { Checkbox } from "../components/Checkbox.js";
import { FileBrowser, type FileSource, useFileBrowser } from "../components/FileBrowser.js";
import { Panel } from "../components/Panel.js";
import { ProblemLine } from "../components/ProblemLine.js";
import { fetchFile, fetchFiles, fetchLog, type Problem, toProblem } from "../lib/api.js";
import { latest } from "../lib/latest.js";

/** How many of the log's last lines the log tab shows when opened (or reloaded). */
const LOG_LINES = 200;
/** While following, how often the log tab asks for new lines, and how many it keeps shown. */
const FOLLOW_EVERY_MS = 2000;
const FOLLOW_KEEP_LINES = 2000;

type Tab = "files" | "log";

/**
 * Agent page: the agent's state dir and log, read-only, as c0re serves them (the web holds no
 * files). The state dir tab is a {@link FileBrowser}: a listing with breadcrumbs, where a readable
 * directory opens and a readable file shows its text; private files, symlinks and what c0re
 * refuses are shown, never opened. Text is only ever a text node. The log tab shows the last lines of the agent's harness log, reloaded on demand, or
 * followed: with "follow" ticked it asks every 2 s for the lines written since its last answer
 * and appends them. Nothing is read until a tab is opened.
 */
export function FilesPanel({ name }: { name: AgentName }) {
  // Nothing is asked of c0re until the operator opens a tab.
  const tab = useSignal<Tab | null>(null);
  const log = useSignal<readonly string[] | null>(null);
  /** Where the last answer about the log ended: the next follow asks from there. */
  const logEnd = useSignal<number | null>(null);
  const following = useSignal(false);
  const problem = useSignal<Problem | null>(null);

  const source = useMemo(
    (): FileSource => ({
      list: (path, after) => fetchFiles(name, path, after),
      read: (path) => fetchFile(name, path),
    }),
    [name],
  );
  const files = useFileBrowser(source, problem);
  const loaders = useMemo(() => {
    const fail = (e: unknown) => {
      problem.value = toProblem(e);
    };
    // Where the last follow asked from.
    let from = 0;
    return {
      log: latest(
        () => fetchLog(name, LOG_LINES),
        (r) => {
          log.value = r.lines;
          logEnd.value = r.end;
          problem.value = null;
        },
        fail,
      ),
      more: latest(
        () => {
          from = logEnd.value ?? 0;
          return fetchLog(name, FOLLOW_KEEP_LINES, from);
        },
        (r) => {
          // A reload answered meanwhile: these lines follow an end that is no longer shown.
          if (logEnd.value !== from) return;
          logEnd.value = r.end;
          if (r.lines.length > 0)
            log.value = [...(log.value ?? []), ...r.lines].slice(-FOLLOW_KEEP_LINES);
          problem.value = null;
        },
        fail,
      ),
    };
  }, [name]);

  // Following: asks for what the log gained while the tab is open and the box ticked.
  const follow = following.value && tab.value === "log";
  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(() => {
      if (logEnd.value !== null) void loaders.more();
    }, FOLLOW_EVERY_MS);
    return () => clearInterval(timer);
  }, [follow, loaders]);

  const show = (t: Tab) => {
    tab.value = t;
    problem.value = null;
    void (t === "log" ? loaders.log() : files.list());
  };

  return (
    <Panel id="files-panel" title="Files">
      <div class="files-tabs" role="tablist">
        <TabButton id="files-tab" tab={tab} is="files" label="state dir" onSelect={show} />
        <TabButton id="log-tab" tab={tab} is="log" label="log" onSelect={show} />
      </div>
      {tab.value === null ? (
        <p class="muted" id="files-hint">
          read-only, through c0re: only what the agent left world-readable
        </p>
      ) : tab.value === "files" ? (
        <FileBrowser browser={files} root="state" idPrefix="" />
      ) : (
        <>
          <button type="button" id="log-reload" onClick={() => void loaders.log()}>
            reload
          </button>
          <Checkbox id="log-follow" class="log-follow" checked={following} label="follow" />
          <pre id="log-view" class="log-view">
            {log.value === null
              ? "loading…"
              : log.value.length === 0
                ? "(no log yet)"
                : log.value.join("\n")}
          </pre>
        </>
      )}
      <ProblemLine id="files-error" problem={problem.value} />
    </Panel>
  );
}

function TabButton(props: {
  id: string;
  tab: Signal<Tab | null>;
  is: Tab;
  label: string;
  onSelect: (t: Tab) => void;
}) {
  const selected = props.tab.value === props.is;
  return (
    <button
      type="button"
      id={props.id}
      role="tab"
      aria-selected={selected}
      class={selected ? "tab selected" : "tab"}
      onClick={() => props.onSelect(props.is)}
    >
      {props.label}
    </button>
  );
}
