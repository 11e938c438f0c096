import type { FileEntry, FileReadResponse, FilesListResponse } from "@hyperhive/shared/contract";
import { type ReadonlySignal, type Signal, useSignal } from "@preact/signals";
import { useMemo } from "preact/hooks";
import { type Problem, toProblem } from "../lib/api.js";
import { latest } from "../lib/latest.js";

/** Where a browser's listings and files come from: an agent's state dir, or the shared dir. */
export interface FileSource {
  /** One directory (the root when `path` is undefined); with `after`, its next page. */
  list: (path: string | undefined, after?: string) => Promise<FilesListResponse>;
  /** One file, whole. */
  read: (path: string) => Promise<FileReadResponse>;
}

/** A browser's state, kept by the panel that owns it (so it outlives switching tabs). */
export interface FileBrowserState {
  /** The directory shown, relative to the root; undefined for the root. */
  dir: ReadonlySignal<string | undefined>;
  listing: ReadonlySignal<FilesListResponse | null>;
  open: ReadonlySignal<FileReadResponse | null>;
  /** Lists the directory shown (again). */
  list: () => Promise<void>;
  /** Adds the next page of the directory shown (when its listing was truncated). */
  more: () => Promise<void>;
  /** Shows another directory: closes the file shown and lists it. */
  goTo: (path: string | undefined) => void;
  /** Shows one file. */
  read: (path: string) => Promise<void>;
}

/**
 * The state of a {@link FileBrowser} over `source` (stable: memoised by the caller). Failures go
 * to `problem`, which the owner shows (and may share with its other views); a success clears it.
 */
export function useFileBrowser(
  source: FileSource,
  problem: Signal<Problem | null>,
): FileBrowserState {
  const dir = useSignal<string | undefined>(undefined);
  const listing = useSignal<FilesListResponse | null>(null);
  const open = useSignal<FileReadResponse | null>(null);
  return useMemo((): FileBrowserState => {
    const fail = (e: unknown) => {
      problem.value = toProblem(e);
    };
    // The file asked for last: only its answer is shown, however the answers arrive.
    let reading = "";
    const readLatest = latest(
      () => source.read(reading),
      (r) => {
        open.value = r;
        problem.value = null;
      },
      (e) => {
        open.value = null;
        fail(e);
      },
    );
    const list = latest(
      () => source.list(dir.value),
      (r) => {
        listing.value = r;
        problem.value = null;
      },
      fail,
    );
    // The name the last "more" asked to go on after: its page joins only the listing that ends
    // there (not one reloaded or left meanwhile).
    let from: string | undefined;
    const more = latest(
      () => {
        from = listing.value?.entries.at(-1)?.name;
        return source.list(dir.value, from);
      },
      (r) => {
        const shown = listing.value;
        if (shown === null || from === undefined || shown.entries.at(-1)?.name !== from) return;
        listing.value = {
          ...shown,
          entries: [...shown.entries, ...r.entries],
          truncated: r.truncated,
        };
        problem.value = null;
      },
      fail,
    );
    return {
      dir,
      listing,
      open,
      list,
      more,
      goTo: (path) => {
        dir.value = path;
        open.value = null;
        problem.value = null;
        void list();
      },
      read: (path) => {
        reading = path;
        return readLatest();
      },
    };
  }, [source, problem]);
}

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
 * A read-only listing with breadcrumbs, as c0re serves it: a readable directory opens, a readable
 * file shows its text (a binary one says so); private files, symlinks and the like are listed with
 * why, never opened. Text is only ever a text node. Its elements' ids are `idPrefix` followed by
 * `files`, `files-more`, `files-crumbs`, `file-view`, `file-text`, `file-binary` (one browser per prefix on a
 * page); `root` names the root in the crumbs.
 */
export function FileBrowser(props: { browser: FileBrowserState; root: string; idPrefix: string }) {
  const { browser, idPrefix: p } = props;
  const { dir, listing, open } = browser;
  const join = (entry: string) => (dir.value === undefined ? entry : `${dir.value}/${entry}`);
  return (
    <>
      <Crumbs id={`${p}files-crumbs`} root={props.root} dir={dir.value} goTo={browser.goTo} />
      <ul id={`${p}files`} class="files">
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
                    e.kind === "dir" ? browser.goTo(join(e.name)) : void browser.read(join(e.name))
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
        {listing.value?.truncated ? (
          <li class="more">
            <button
              type="button"
              id={`${p}files-more`}
              class="link"
              onClick={() => void browser.more()}
            >
              more…
            </button>
          </li>
        ) : null}
      </ul>
      {open.value === null ? null : (
        <div id={`${p}file-view`} class="file-view" data-path={open.value.path}>
          <h3>
            {open.value.path} <span class="muted">{size(open.value.size)}</span>
          </h3>
          {open.value.encoding === "utf8" ? (
            <pre id={`${p}file-text`} class="file-text">
              {open.value.content}
            </pre>
          ) : (
            <p class="muted" id={`${p}file-binary`}>
              binary file ({size(open.value.size)}): not shown
            </p>
          )}
        </div>
      )}
    </>
  );
}

/** `state / notes / deep`: each part opens that directory. */
function Crumbs(props: {
  id: string;
  root: string;
  dir: string | undefined;
  goTo: (path: string | undefined) => void;
}) {
  const parts = props.dir === undefined ? [] : props.dir.split("/");
  return (
    <nav id={props.id} class="crumbs">
      <button type="button" class="link" onClick={() => props.goTo(undefined)}>
        {props.root}
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
