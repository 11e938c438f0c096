import * as z from "zod";
import { AgentName } from "../names.js";

/**
 * The operator reads agents' files only through c0re (`hive.op.files.*`): the web and the CLI
 * name an agent and a path relative to its state dir (or the hive's shared dir, where every agent
 * writes), and c0re answers from that dir, refusing symlinks, files not world-readable, anything
 * outside the dir and files over a size cap.
 */

/** The longest relative path accepted, in characters. */
export const MAX_FILE_PATH = 1024;

/**
 * A path relative to an agent's state dir (or the shared dir): `notes/today.md`. Segments are
 * separated by `/`; none is empty, `.` or `..`; no NUL, no backslash, never absolute. So it can
 * only name something under that dir (symlinks are refused by c0re, component by component).
 */
export const StateRelPath = z
  .string()
  .min(1)
  .max(MAX_FILE_PATH)
  .refine((p) => !p.includes("\0"), "the path must not contain NUL")
  .refine((p) => !p.includes("\\"), "the path must not contain a backslash")
  .refine(
    (p) => !p.startsWith("/"),
    "the path must be relative (to the agent's state dir, or the shared dir)",
  )
  .refine(
    (p) => p.split("/").every((s) => s !== "" && s !== "." && s !== ".."),
    "the path's segments must not be empty, . or ..",
  );
export type StateRelPath = z.infer<typeof StateRelPath>;

/** What a directory entry is, as `lstat` says (a symlink is never followed). */
export const FileKind = z.enum(["file", "dir", "symlink", "other"]);
export type FileKind = z.infer<typeof FileKind>;

/** One entry of a listed directory. */
export const FileEntry = z.strictObject({
  name: z.string(),
  kind: FileKind,
  /** Bytes (a directory's own size as lstat says). */
  size: z.number().int().nonnegative(),
  /** Unix ms of the last modification. */
  mtime: z.number().int(),
  /**
   * Whether c0re would serve it: a world-readable file, a world-readable and searchable
   * directory. Never a symlink or anything else. (A file over the size cap is still refused.)
   */
  readable: z.boolean(),
});
export type FileEntry = z.infer<typeof FileEntry>;

/**
 * Whose files a request reads, and its answer names: an agent's state dir (`agent`), or the
 * hive's shared dir (`shared: true`), which every agent reads and writes in.
 */
const AgentDir = { agent: AgentName };
const SharedDir = { shared: z.literal(true) };
export type FilesPlace = { agent: AgentName } | { shared: true };

/** A directory entry's name: one path segment (at most 255 bytes on Linux). */
export const FileName = z
  .string()
  .min(1)
  .max(255)
  .refine((n) => !n.includes("/") && !n.includes("\0"), "a file name has no / and no NUL");

/**
 * `hive.op.files.list` request: one directory of an agent's state dir, or of the shared dir (its
 * root by default); with `after`, the entries whose names sort after it (the last name of the
 * previous page, when that one was `truncated`).
 */
const listFields = { path: StateRelPath.optional(), after: FileName.optional() };
export const FilesListRequest = z.union([
  z.strictObject({ ...AgentDir, ...listFields }),
  z.strictObject({ ...SharedDir, ...listFields }),
]);
export type FilesListRequest = z.infer<typeof FilesListRequest>;

/**
 * The most entries one listing returns (sorted by name; `truncated` says there were more: ask
 * again with `after` set to the last name).
 */
export const MAX_FILE_ENTRIES = 1000;

const listingFields = {
  /** The listed directory, relative to the state (or shared) dir; "" for that dir itself. */
  path: z.string(),
  entries: z.array(FileEntry).max(MAX_FILE_ENTRIES),
  truncated: z.boolean(),
};
export const FilesListResponse = z.union([
  z.strictObject({ ...AgentDir, ...listingFields }),
  z.strictObject({ ...SharedDir, ...listingFields }),
]);
export type FilesListResponse = z.infer<typeof FilesListResponse>;

/**
 * The size cap c0re serves files up to by default: 512 KiB, so the reply (base64 for a binary
 * file) stays under NATS' default 1 MiB payload.
 */
export const DEFAULT_FILE_CAP = 512 * 1024;

/** `hive.op.files.read` request: one file of an agent's state dir, or of the shared dir. */
const readFields = {
  path: StateRelPath,
  /** A lower cap for this read: a larger file is refused (`body_too_large`), never cut. */
  max_bytes: z.number().int().min(1).max(DEFAULT_FILE_CAP).optional(),
};
export const FileReadRequest = z.union([
  z.strictObject({ ...AgentDir, ...readFields }),
  z.strictObject({ ...SharedDir, ...readFields }),
]);
export type FileReadRequest = z.infer<typeof FileReadRequest>;

/** How a file's content is carried: as text when it is valid UTF-8, else as base64. */
export const FileEncoding = z.enum(["utf8", "base64"]);
export type FileEncoding = z.infer<typeof FileEncoding>;

const fileFields = {
  path: StateRelPath,
  size: z.number().int().nonnegative(),
  /** Unix ms of the last modification. */
  mtime: z.number().int(),
  encoding: FileEncoding,
  /** The whole file: its text (`utf8`), or its bytes in base64 (`base64`, not UTF-8). */
  content: z.string(),
};
export const FileReadResponse = z.union([
  z.strictObject({ ...AgentDir, ...fileFields }),
  z.strictObject({ ...SharedDir, ...fileFields }),
]);
export type FileReadResponse = z.infer<typeof FileReadResponse>;

/** The most log lines one request returns. */
export const MAX_LOG_LINES = 2000;

/** `hive.op.files.log` request: the tail of the agent's harness log (`<root>/logs/<agent>.log`). */
export const AgentLogRequest = z.strictObject({
  agent: AgentName,
  /** How many of the last lines; default 100. */
  lines: z.number().int().min(1).max(MAX_LOG_LINES).optional(),
  /**
   * Only the lines written after this byte offset: the `end` of a previous answer (to follow the
   * log). When the log is now shorter (it was started afresh), its last lines as without it.
   */
  after: z.number().int().nonnegative().optional(),
});
export type AgentLogRequest = z.infer<typeof AgentLogRequest>;

export const AgentLogResponse = z.strictObject({
  agent: AgentName,
  /**
   * The last lines, oldest first; empty when the agent has no log yet. Whole lines only: one
   * still being written shows once it ends.
   */
  lines: z.array(z.string()).max(MAX_LOG_LINES),
  /** The byte offset just past the last whole line: pass it as `after` for what comes next. */
  end: z.number().int().nonnegative(),
});
export type AgentLogResponse = z.infer<typeof AgentLogResponse>;
