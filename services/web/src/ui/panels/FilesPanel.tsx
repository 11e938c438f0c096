import type {
  AgentName,
  FileEntry,
  FileReadResponse,
  FilesListResponse,
} from "@hyperhive/shared/contract";
import { type Signal, useSignal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import { Checkbox } from "../components/Checkbox.js";
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

/** A size as people read it: `812 B`, `3.4 KiB`. */
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Why an entry cannot be opened, in a word. */
function why(e: FileEntry): string {
  if (e.kind === "symlink") return "symlink";
  if (e.kind === "other") return "not a file";
  return "private";
}

/**
 * Agent page: the agent's state dir and log, read-only, as c0re serves them (the web holds no
 * files). A listing with breadcrumbs: a readable directory opens, a readable file shows its text;
 * private files, symlinks and what c0re refuses are shown, never opened. Text is only ever a text
 * node. The log tab shows the last lines of the agent's harness log, reloaded on demand, or
 * followed: with "follow" ticked it asks every 2 s for the lines written since its last answer
 * and appends them. Nothing is read until a tab is opened.
 */
export function FilesPanel({ name }: { name: AgentName }) {
  // Nothing is asked of c0re until the operator opens a tab.
  const tab = useSignal<Tab | null>(null);
  const dir = useSignal<string | undefined>(undefined);
  const listing = useSignal<FilesListResponse | null>(null);
  const open = useSignal<FileReadResponse | null>(null);
  const log = useSignal<readonly string[] | null>(null);
  /** Where the last answer about the log ended: the next follow asks from there. */
  const logEnd = useSignal<number | null>(null);
  const following = useSignal(false);
  const problem = useSignal<Problem | null>(null);

  const loaders = useMemo(() => {
    const fail = (e: unknown) => {
      problem.value = toProblem(e);
    };
    // The file asked for last: only its answer is shown, however the answers arrive.
    let reading = "";
    // Where the last follow asked from.
    let from = 0;
    const readLatest = latest(
      () => fetchFile(name, reading),
      (r) => {
        open.value = r;
        problem.value = null;
      },
      (e) => {
        open.value = null;
        fail(e);
      },
    );
    return {
      list: latest(
        () => fetchFiles(name, dir.value),
        (r) => {
          listing.value = r;
          problem.value = null;
        },
        fail,
      ),
      read: (path: string) => {
        reading = path;
        return readLatest();
      },
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

  const goTo = (path: string | undefined) => {
    dir.value = path;
    open.value = null;
    problem.value = null;
    void loaders.list();
  };
  const join = (entry: string) => (dir.value === undefined ? entry : `${dir.value}/${entry}`);
  const show = (t: Tab) => {
    tab.value = t;
    problem.value = null;
    void (t === "log" ? loaders.log() : loaders.list());
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
        <>
          <Crumbs dir={dir.value} goTo={goTo} />
          <ul id="files" class="files">
            {listing.value === null ? (
              <li class="empty muted">loading…</li>
            ) : listing.value.entries.length === 0 ? (
              <li class="empty muted">empty</li>
            ) : (
              listing.value.entries.map((e) => (
                <li key={e.name} class={`file-entry kind-${e.kind}`} data-name={e.name}>
                  {e.readable ? (
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        e.kind === "dir" ? goTo(join(e.name)) : void loaders.read(join(e.name))
                      }
                    >
                      {e.kind === "dir" ? `${e.name}/` : e.name}
                    </button>
                  ) : (
                    <span class="muted" title={why(e)}>
                      {e.kind === "dir" ? `${e.name}/` : e.name} <em>({why(e)})</em>
                    </span>
                  )}
                  <span class="muted size">{e.kind === "file" ? size(e.size) : ""}</span>
                  <span class="muted mtime">{new Date(e.mtime).toLocaleString()}</span>
                </li>
              ))
            )}
            {listing.value?.truncated ? <li class="muted">(more not shown)</li> : null}
          </ul>
          {open.value === null ? null : (
            <div id="file-view" class="file-view" data-path={open.value.path}>
              <h3>
                {open.value.path} <span class="muted">{size(open.value.size)}</span>
              </h3>
              {open.value.encoding === "utf8" ? (
                <pre id="file-text">{open.value.content}</pre>
              ) : (
                <p class="muted" id="file-binary">
                  binary file ({size(open.value.size)}): not shown
                </p>
              )}
            </div>
          )}
        </>
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

/** `state / notes / deep`: each part opens that directory. */
function Crumbs(props: { dir: string | undefined; goTo: (path: string | undefined) => void }) {
  const parts = props.dir === undefined ? [] : props.dir.split("/");
  return (
    <nav id="files-crumbs" class="crumbs">
      <button type="button" class="link" onClick={() => props.goTo(undefined)}>
        state
      </button>
      {parts.map((p, i) => (
        <span key={parts.slice(0, i + 1).join("/")}>
          {" / "}
          <button
            type="button"
            class="link"
            onClick={() => props.goTo(parts.slice(0, i + 1).join("/"))}
          >
            {p}
          </button>
        </span>
      ))}
    </nav>
  );
}
