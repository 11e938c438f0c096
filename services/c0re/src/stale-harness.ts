import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  groupAlive,
  type Logger,
  readProcEnviron,
  readProcStat,
  signalGroup,
  writeFileAtomic,
} from "@hyperhive/shared";
import { z } from "zod";

/**
 * `<run dir>/harness.pid`: which process is this agent's harness. The start time (clock ticks
 * since boot, from /proc) pins the pid to one process for good, so a pid the kernel has since
 * handed to something else is never mistaken for the harness.
 */
const PidFile = z.strictObject({
  pid: z.number().int().min(2),
  start_ticks: z.number().int().nonnegative(),
});
type PidFile = z.infer<typeof PidFile>;

/** How long a killed leftover group gets to vanish before the new harness starts anyway. */
const REAP_WAIT_MS = 2000;

function pidFilePath(runDir: string): string {
  return join(runDir, "harness.pid");
}

/**
 * Records the harness just spawned as `pid`. Returns false, writing nothing, if the process is
 * already gone (there is nothing to reap later then).
 */
export function writePidFile(runDir: string, pid: number): boolean {
  const stat = readProcStat(pid);
  if (!stat) return false;
  const rec: PidFile = { pid, start_ticks: stat.startTicks };
  writeFileAtomic(pidFilePath(runDir), `${JSON.stringify(rec)}\n`);
  return true;
}

/** Removes the pid file if it still names `pid` (a newer harness's file is left alone). */
export function clearPidFile(runDir: string, pid: number): void {
  if (readPidFile(runDir)?.pid === pid) rmSync(pidFilePath(runDir), { force: true });
}

function readPidFile(runDir: string): PidFile | undefined {
  let text: string;
  try {
    text = readFileSync(pidFilePath(runDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    return PidFile.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Whether `rec` still names the harness of the agent whose run dir is `runDir`: the same process
 * (pid and start ticks), started with that `HIVE_RUN_DIR` (so neither another agent's harness nor
 * another hive's), and leading its own process group (so signalling the group hits only it and
 * what it spawned). Unreadable (gone, another user, no /proc) means no.
 */
function isLeftoverHarness(rec: PidFile, runDir: string): boolean {
  const stat = readProcStat(rec.pid);
  if (!stat || stat.state === "Z") return false;
  return (
    stat.startTicks === rec.start_ticks &&
    stat.pgrp === rec.pid &&
    readProcEnviron(rec.pid)?.get("HIVE_RUN_DIR") === runDir
  );
}

/**
 * The second line of defence against an agent running twice (the first is the harness's
 * lifeline, which ends it when c0re dies): before a start, kills the harness group an earlier
 * c0re left behind, if the pid file proves it is this agent's, and removes the pid file.
 * Resolves once the group is gone (or after a short wait, if it lingers).
 */
export async function reapStaleHarness(runDir: string, log: Logger): Promise<void> {
  const rec = readPidFile(runDir);
  if (rec && isLeftoverHarness(rec, runDir)) {
    log.warn({ runDir, pid: rec.pid }, "killing a harness left over by an earlier c0re");
    signalGroup(rec.pid, "SIGKILL");
    // Waiting on the kernel, not on c0re's logic: real time, polled, with a deadline.
    const deadline = Date.now() + REAP_WAIT_MS;
    while (groupAlive(rec.pid) && Date.now() < deadline) await delay(20);
  }
  rmSync(pidFilePath(runDir), { force: true });
}
