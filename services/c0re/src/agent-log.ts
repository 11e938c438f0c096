import { open } from "node:fs/promises";
import { join } from "node:path";
import { hivePaths } from "@hyperhive/shared";

/** At most this much of a log's end is read for a tail. */
const TAIL_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

/** `<root>/logs/<name>.log`: an agent's harness output (stdout and stderr), appended per run. */
export function agentLogFile(root: string, name: string): string {
  return join(hivePaths(root).logsDir, `${name}.log`);
}

/**
 * A file's bytes from `after` (from its start when it has no `after`, or is now shorter than
 * that) to its end, at most the last 256 KiB of them, with where they start; a line the window
 * cuts is left out. Undefined when there is no file.
 */
async function readEnd(
  path: string,
  after?: number,
): Promise<{ bytes: Buffer; start: number } | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = (await fh.stat()).size;
    const from = after !== undefined && after <= size ? after : 0;
    const start = Math.max(from, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    const got = buf.subarray(0, bytesRead);
    if (start === from) return { bytes: got, start };
    const cut = got.indexOf(NEWLINE) + 1;
    return { bytes: got.subarray(cut), start: start + cut };
  } finally {
    await fh.close();
  }
}

/**
 * The last `lines` lines of a file (read from its last 256 KiB), a line still being written
 * included (a harness that died mid-line); "" if it does not exist.
 */
export async function tailFile(path: string, lines: number): Promise<string> {
  const r = await readEnd(path);
  if (!r) return "";
  const all = r.bytes.toString("utf8").split("\n");
  if (all.at(-1) === "") all.pop();
  return all.slice(-lines).join("\n");
}

/** What {@link readLogLines} found. */
export interface LogLines {
  /** Whole lines, oldest first. */
  lines: string[];
  /** The byte offset just past the last of them (or where the next read starts when none). */
  end: number;
}

/**
 * The last `lines` whole lines of a log — of those written after byte `after` when given (to
 * follow it); when the file is now shorter than `after` (started afresh), its last lines. Reads
 * at most the last 256 KiB; a line cut by that window, or still being written, is left out.
 */
export async function readLogLines(path: string, lines: number, after?: number): Promise<LogLines> {
  const r = await readEnd(path, after);
  if (!r) return { lines: [], end: 0 };
  const last = r.bytes.lastIndexOf(NEWLINE);
  if (last < 0) return { lines: [], end: r.start };
  const whole = r.bytes.subarray(0, last).toString("utf8").split("\n");
  return { lines: whole.slice(-lines), end: r.start + last + 1 };
}
