import {
  AgentLogResponse,
  type AgentName,
  FileName,
  FileReadResponse,
  FilesListResponse,
  MAX_LOG_LINES,
  StateRelPath,
} from "@hyperhive/shared/contract";
import * as z from "zod";
import { AgentParams } from "./requests.js";

/**
 * An agent's files, and the hive's shared dir (`<root>/shared`, where every agent writes), read
 * through c0re (`hive.op.files.*`): the web holds none and never touches the file system for
 * them; it forwards the place (an agent, or `shared`) and the relative path, and c0re decides.
 */

/**
 * `GET /api/agents/:name/files?path=&after=` (and `GET /api/shared/files?path=&after=`) query: a
 * directory of the state dir (or the shared dir), its root without; with `after`, the next page
 * (the entries whose names sort after it).
 */
export const FilesQuery = z.strictObject({
  path: StateRelPath.optional(),
  after: FileName.optional(),
});
export type FilesQuery = z.infer<typeof FilesQuery>;

/** `GET /api/agents/:name/file?path=` (and `GET /api/shared/file?path=`) query: one file. */
export const FileQuery = z.strictObject({ path: StateRelPath });
export type FileQuery = z.infer<typeof FileQuery>;

/**
 * `GET /api/agents/:name/log?lines=&after=` query: how many of the log's last lines, and from which
 * byte offset (a previous answer's `end`, to follow it); digits.
 */
export const LogQuery = z.strictObject({
  lines: z.coerce.number().int().min(1).max(MAX_LOG_LINES).optional(),
  after: z.coerce.number().int().nonnegative().optional(),
});
export type LogQuery = z.infer<typeof LogQuery>;

const withQuery = (path: string, query: string) => (query === "" ? path : `${path}?${query}`);
const filesUrl = (name: AgentName, verb: string, query: string) =>
  withQuery(`/api/agents/${encodeURIComponent(name)}/${verb}`, query);
const pathQuery = (path: string | undefined, after?: string) => {
  const q = new URLSearchParams();
  if (path !== undefined) q.set("path", path);
  if (after !== undefined) q.set("after", after);
  return q.toString();
};

/**
 * The read-only routes, in the shape of `api`'s GET routes plus a URL builder: an agent's files
 * and log, and the shared dir's files (no params: there is one shared dir).
 */
export const filesApi = {
  /** One directory's entries (c0re's `hive.op.files.list`). */
  files: {
    method: "GET",
    path: "/api/agents/:name/files",
    url: (name: AgentName, path?: string, after?: string) =>
      filesUrl(name, "files", pathQuery(path, after)),
    params: AgentParams,
    query: FilesQuery,
    reply: FilesListResponse,
  },
  /** One file whole, text or base64 (c0re's `hive.op.files.read`). */
  file: {
    method: "GET",
    path: "/api/agents/:name/file",
    url: (name: AgentName, path: string) => filesUrl(name, "file", pathQuery(path)),
    params: AgentParams,
    query: FileQuery,
    reply: FileReadResponse,
  },
  /** The tail of the agent's harness log (c0re's `hive.op.files.log`). */
  log: {
    method: "GET",
    path: "/api/agents/:name/log",
    url: (name: AgentName, lines?: number, after?: number) => {
      const q = new URLSearchParams();
      if (lines !== undefined) q.set("lines", String(lines));
      if (after !== undefined) q.set("after", String(after));
      return filesUrl(name, "log", q.toString());
    },
    params: AgentParams,
    query: LogQuery,
    reply: AgentLogResponse,
  },
  /** One directory of the shared dir (c0re's `hive.op.files.list {shared: true}`). */
  sharedFiles: {
    method: "GET",
    path: "/api/shared/files",
    url: (path?: string, after?: string) => withQuery("/api/shared/files", pathQuery(path, after)),
    query: FilesQuery,
    reply: FilesListResponse,
  },
  /** One file of the shared dir, whole (c0re's `hive.op.files.read {shared: true}`). */
  sharedFile: {
    method: "GET",
    path: "/api/shared/file",
    url: (path: string) => withQuery("/api/shared/file", pathQuery(path)),
    query: FileQuery,
    reply: FileReadResponse,
  },
} as const;
