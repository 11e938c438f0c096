import { statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { hivePaths } from "@hyperhive/shared";

/** At most this much of a log's end is read for a tail. */
const TAIL_BYTES = 256 * 1024;

/** `<root>/logs/<name>.log`: an agent's harness output (stdout and stderr), appended per run. */
export function agentLogFile(root: string, name: string): string {
  return join(hivePaths(root).logsDir, `${name}.log`);
}

/** The last `lines` lines of a file (read from its last 256 KiB); "" if it does not exist. */
export async function tailFile(path: string, lines: number): Promise<string> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return "";
  }
  const len = Math.min(size, TAIL_BYTES);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const all = buf.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines).join("\n");
  } finally {
    await fh.close();
  }
}

/** What {@link readLogLines} found. */
export interface LogLines {
  /** Whole lines, oldest first. */
  lines: string[];
  /** The byte offset just past the last of them (or where the next read starts when none). */
  end: number;
}

const NEWLINE = 0x0a;

/**
 * The last `lines` whole lines of a log — of those written after byte `after` when given (to
 * follow it); when the file is now shorter than `after` (started afresh), its last lines. Reads
 * at most the last 256 KiB; a line cut by that window, or still being written, is left out.
 */
export async function readLogLines(path: string, lines: number, after?: number): Promise<LogLines> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    return { lines: [], end: 0 };
  }
  try {
    const size = (await fh.stat()).size;
    const from = after !== undefined && after <= size ? after : 0;
    const start = Math.max(from, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    const got = buf.subarray(0, bytesRead);
    // Cut by the window: the first line's start is not in it.
    const first = start > from ? got.indexOf(NEWLINE) + 1 : 0;
    const last = got.lastIndexOf(NEWLINE);
    if (last < first) return { lines: [], end: start + Math.max(first, 0) };
    const whole = got.subarray(first, last).toString("utf8").split("\n");
    return { lines: whole.slice(-lines), end: start + last + 1 };
  } finally {
    await fh.close();
  }
}
