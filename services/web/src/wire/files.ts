import {
  AgentLogResponse,
  type AgentName,
  FileReadResponse,
  FilesListResponse,
  MAX_LOG_LINES,
  StateRelPath,
} from "@hyperhive/shared/contract";
import * as z from "zod";
import { AgentParams } from "./requests.js";

/**
 * An agent's files, read through c0re (`hive.op.files.*`): the web holds none and never touches
 * the file system for them; it forwards the agent and the relative path, and c0re decides.
 */

/** `GET /api/agents/:name/files?path=` query: a directory of the state dir (its root without). */
export const FilesQuery = z.strictObject({ path: StateRelPath.optional() });
export type FilesQuery = z.infer<typeof FilesQuery>;

/** `GET /api/agents/:name/file?path=` query: one file of the state dir. */
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

const filesUrl = (name: AgentName, verb: string, query: string) =>
  `/api/agents/${encodeURIComponent(name)}/${verb}${query === "" ? "" : `?${query}`}`;

/** The three read-only routes, in the shape of `api`'s GET routes plus a URL builder. */
export const filesApi = {
  /** One directory's entries (c0re's `hive.op.files.list`). */
  files: {
    method: "GET",
    path: "/api/agents/:name/files",
    url: (name: AgentName, path?: string) =>
      filesUrl(name, "files", path === undefined ? "" : new URLSearchParams({ path }).toString()),
    params: AgentParams,
    query: FilesQuery,
    reply: FilesListResponse,
  },
  /** One file whole, text or base64 (c0re's `hive.op.files.read`). */
  file: {
    method: "GET",
    path: "/api/agents/:name/file",
    url: (name: AgentName, path: string) =>
      filesUrl(name, "file", new URLSearchParams({ path }).toString()),
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
} as const;
