import { setTimeout } from "node:timers/promises";
import {
  type AgentLogResponse,
  type AgentName,
  ErrorCode,
  type FileEntry,
  type FileReadResponse,
  type FilesListResponse,
  type FilesPlace,
  HiveError,
  MAX_LOG_LINES,
  rpcs,
  StateRelPath,
  subjects,
} from "@hyperhive/shared";
import { agentArgument, checkedArgument, EXIT, intOption, parseCommand } from "./args.js";
import { commands } from "./catalog.js";
import { ask, askHive, withHive } from "./client.js";
import type { Output } from "./output.js";
import { rootOf } from "./paths.js";
import { cell, table, utc } from "./table.js";

/**
 * `hive files <agent> [<path>]`, `hive shared [<path>]` and `hive logs <agent>`: an agent's state
 * files, the shared dir's and an agent's log tail, read by c0re (`hive.op.files.*`) — the
 * operator's command reads no agent file itself, so it sees what c0re serves: world-readable
 * files under the dir, no symlinks, up to the size cap.
 */

export const FILES_COMMANDS = ["files", "shared", "logs"] as const;
export type FilesCommandName = (typeof FILES_COMMANDS)[number];

/** Whether `name` is one of {@link FILES_COMMANDS}. */
export function isFilesCommand(name: string): name is FilesCommandName {
  return (FILES_COMMANDS as readonly string[]).includes(name);
}

/** Log lines `hive logs` prints without `--lines`. */
const DEFAULT_LINES = 50;

/** Runs `files` or `logs` with its own arguments; resolves with the exit code. */
export async function runFilesCommand(
  name: FilesCommandName,
  rest: string[],
  out: Output,
): Promise<number> {
  if (name === "logs") {
    const def = commands.logs;
    const { values, positionals } = parseCommand(def, rest);
    const [agent = ""] = positionals;
    const lines = intOption(def, "lines", values.lines, DEFAULT_LINES, {
      min: 1,
      max: MAX_LOG_LINES,
    });
    const root = rootOf(values.root);
    const name = agentArgument(def, agent);
    if (values.follow === true) await followLog(root, name, lines, out);
    else await logs(root, name, lines, out);
    return EXIT.ok;
  }
  if (name === "shared") {
    const def = commands.shared;
    const { values, positionals } = parseCommand(def, rest);
    const [given] = positionals;
    const { path, dirOnly } = pathArgument(def, "a path inside the shared dir", given);
    await files(rootOf(values.root), { shared: true }, path, dirOnly, out);
    return EXIT.ok;
  }
  const def = commands.files;
  const { values, positionals } = parseCommand(def, rest);
  const [agent = "", given] = positionals;
  const { path, dirOnly } = pathArgument(def, "a path inside the agent's state dir", given);
  await files(rootOf(values.root), { agent: agentArgument(def, agent) }, path, dirOnly, out);
  return EXIT.ok;
}

/** A path argument: none (or `.`) is the dir itself; a trailing `/` says "a directory". */
function pathArgument(
  def: typeof commands.files | typeof commands.shared,
  what: string,
  given: string | undefined,
): { path: string | undefined; dirOnly: boolean } {
  // A trailing `/` says "a directory": list it, never read it.
  const dirOnly = given?.endsWith("/") === true;
  const trimmed = given?.replace(/\/+$/, "");
  const path =
    trimmed === undefined || trimmed === "" || trimmed === "."
      ? undefined
      : checkedArgument(def, what, StateRelPath, trimmed);
  return { path, dirOnly };
}

/** A listing (all its pages) as a table: NAME, KIND, SIZE, MODIFIED (UTC), READABLE. */
export function listingTable(entries: readonly FileEntry[]): string {
  const rows = entries.map((e) => [
    e.kind === "dir" ? `${cell(e.name, 60)}/` : cell(e.name, 60),
    e.kind,
    e.kind === "file" ? String(e.size) : "-",
    utc(e.mtime),
    e.readable ? "yes" : "no",
  ]);
  return table([["NAME", "KIND", "SIZE", "MODIFIED", "READABLE"], ...rows]);
}

/**
 * `hive files <agent> [<path>]` and `hive shared [<path>]`: lists a directory (the state dir, or
 * the shared dir, without a path), or prints a file. c0re is asked to list first; its
 * `bad_request` then can only mean "not a directory" (the path passed the wire schema here), so
 * the file is read instead. A directory of more than one page is listed whole: one table, or
 * with `--json` each page c0re answered as a line of its own.
 */
export async function files(
  root: string,
  place: FilesPlace,
  path: string | undefined,
  dirOnly: boolean,
  out: Output,
): Promise<void> {
  const req = path === undefined ? place : { ...place, path };
  let listing: FilesListResponse;
  try {
    listing = await askHive(root, subjects.op.files.list, rpcs.opFilesList, req);
  } catch (e) {
    if (path === undefined || dirOnly || !HiveError.is(e, ErrorCode.BadRequest)) throw e;
    const file = await askHive(root, subjects.op.files.read, rpcs.opFileRead, { ...place, path });
    printFile(file, out);
    return;
  }
  if (listing.entries.length === 0) {
    const dir = "shared" in place ? "the shared dir" : "the state dir";
    out.result(listing, `(${listing.path === "" ? dir : listing.path} is empty)`);
    return;
  }
  const entries = [...listing.entries];
  out.json(listing);
  for (let page = listing; page.truncated; ) {
    const after = page.entries.at(-1)?.name;
    // A truncated page with nothing in it would ask for the same page forever.
    if (after === undefined) break;
    page = await askHive(root, subjects.op.files.list, rpcs.opFilesList, { ...req, after });
    out.json(page);
    entries.push(...page.entries);
  }
  out.text(listingTable(entries));
}

/** A file as it is: its text, or its bytes (base64 on the wire); `--json` gives the reply. */
function printFile(file: FileReadResponse, out: Output): void {
  if (out.jsonMode) {
    out.json(file);
    return;
  }
  process.stdout.write(
    file.encoding === "utf8" ? file.content : Buffer.from(file.content, "base64"),
  );
}

/** `hive logs <agent> [--lines N]`: the last lines of the agent's harness log. */
export async function logs(
  root: string,
  agent: AgentName,
  lines: number,
  out: Output,
): Promise<void> {
  const res: AgentLogResponse = await askHive(root, subjects.op.files.log, rpcs.opAgentLog, {
    agent,
    lines,
  });
  printLog(res, out);
}

function printLog(res: AgentLogResponse, out: Output): void {
  out.result(res, res.lines.length === 0 ? `(${res.agent} has no log yet)` : res.lines.join("\n"));
}

/** How often `hive logs --follow` asks c0re what the log has gained. */
export const FOLLOW_EVERY_MS = 1000;

/**
 * `hive logs <agent> --follow`: the last lines, then every whole line the log gains (asked for
 * each second from where the last answer ended; with `--json`, each answer with new lines on a
 * line of its own), until SIGINT or SIGTERM.
 */
export async function followLog(
  root: string,
  agent: AgentName,
  lines: number,
  out: Output,
): Promise<void> {
  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await withHive(root, async (nc) => {
      let res = await ask(nc, subjects.op.files.log, rpcs.opAgentLog, { agent, lines });
      printLog(res, out);
      while (!stopped.signal.aborted) {
        await setTimeout(FOLLOW_EVERY_MS, undefined, { signal: stopped.signal }).catch(() => {});
        if (stopped.signal.aborted) break;
        res = await ask(nc, subjects.op.files.log, rpcs.opAgentLog, {
          agent,
          lines: MAX_LOG_LINES,
          after: res.end,
        });
        if (res.lines.length > 0) out.result(res, res.lines.join("\n"));
      }
    });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
