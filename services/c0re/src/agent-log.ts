import { statSync } from "node:fs";
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
