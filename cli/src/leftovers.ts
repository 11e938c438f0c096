import { readFileSync, rmSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import {
  readProcCmdline,
  readProcEnviron,
  readProcStat,
  signalGroup,
  writeFileAtomic,
} from "@hyperhive/shared";
import { z } from "zod";
import { ensurePrivateDir } from "./identity.js";
import type { RootPaths } from "./paths.js";

/**
 * The record of what a `hive up` runs (`<root>/private/processes.json`), and what a later
 * `hive up` does with it when the owner died: stop exactly those of its processes that are still
 * the same processes. A process is named by its pid *and* its start time (clock ticks since boot,
 * from /proc), so a pid reused by an unrelated program never matches, and it must also belong to
 * this root (its environment's HIVE_ROOT, or an argument, names it). Nothing is ever found by
 * its name.
 */

const Pid = z.number().int().positive();
const ProcessId = z.strictObject({ pid: Pid, start_ticks: z.number().int().nonnegative() });
export type ProcessId = z.infer<typeof ProcessId>;

export const RecordedProcess = ProcessId.extend({ service: z.string() });
export type RecordedProcess = z.infer<typeof RecordedProcess>;

export const ProcessRecord = z.strictObject({
  root: z.string(),
  /** The `hive up` that wrote it. */
  owner: ProcessId,
  processes: z.array(RecordedProcess),
});
export type ProcessRecord = z.infer<typeof ProcessRecord>;

/** The id of a live process, or undefined if it is gone. */
export function processId(pid: number): ProcessId | undefined {
  const s = readProcStat(pid);
  return s && s.state !== "Z" ? { pid, start_ticks: s.startTicks } : undefined;
}

/** Whether `id` still names the same live process (same pid, same start). */
export function stillRunning(id: ProcessId): boolean {
  return processId(id.pid)?.start_ticks === id.start_ticks;
}

/** Whether a process belongs to the hive at `root`: HIVE_ROOT in its environment or its argv. */
export function belongsToRoot(pid: number, root: string): boolean {
  if (readProcEnviron(pid)?.get("HIVE_ROOT") === root) return true;
  return (readProcCmdline(pid) ?? []).some((a) => a === root || a.startsWith(`${root}/`));
}

/** The record under `paths`, or undefined if there is none or it is not one. */
export function readProcessRecord(paths: RootPaths): ProcessRecord | undefined {
  try {
    return ProcessRecord.parse(JSON.parse(readFileSync(paths.processesFile, "utf8")));
  } catch {
    return undefined;
  }
}

/** The running `hive up`'s record, rewritten (atomically, owner-only) as services start. */
export class ProcessBook {
  readonly #paths: RootPaths;
  readonly #record: ProcessRecord;

  constructor(paths: RootPaths, owner: ProcessId) {
    this.#paths = paths;
    this.#record = { root: paths.root, owner, processes: [] };
    this.#write();
  }

  /** Records the processes of one run of `service`, replacing those of its earlier runs. */
  set(service: string, pids: readonly number[]): void {
    const others = this.#record.processes.filter((p) => p.service !== service);
    const ids = pids.flatMap((pid) => {
      const id = processId(pid);
      return id ? [{ service, ...id }] : [];
    });
    this.#record.processes = [...others, ...ids];
    this.#write();
  }

  /** Removes the record: the hive stopped and everything in it is gone. */
  remove(): void {
    rmSync(this.#paths.processesFile, { force: true });
  }

  #write(): void {
    ensurePrivateDir(this.#paths);
    writeFileAtomic(this.#paths.processesFile, `${JSON.stringify(this.#record, null, 2)}\n`, {
      mode: 0o600,
    });
  }
}

/** A leftover: a recorded process that is still that process, of this root. */
function isLeftover(p: RecordedProcess, root: string): boolean {
  return stillRunning(p) && belongsToRoot(p.pid, root);
}

function signal(p: RecordedProcess, sig: NodeJS.Signals): void {
  // A service leads its own process group: signal the group, so its helpers go too.
  if (readProcStat(p.pid)?.pgrp === p.pid) signalGroup(p.pid, sig);
  else {
    try {
      process.kill(p.pid, sig);
    } catch {
      // Gone meanwhile.
    }
  }
}

async function waitGone(list: RecordedProcess[], root: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!list.some((p) => isLeftover(p, root))) return true;
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
}

/**
 * Stops what a dead `hive up` left behind at `root`: SIGTERM (and SIGCONT) to each recorded
 * process that is still the same process of this root, SIGKILL to those still there after
 * `graceMs`. Resolves
 * with the processes it stopped (none if the record is of another root). The caller must hold
 * the root's lock and have checked that the record's owner is gone.
 */
export async function stopLeftovers(
  record: ProcessRecord,
  root: string,
  graceMs: number,
): Promise<RecordedProcess[]> {
  if (record.root !== root) return [];
  const left = record.processes.filter((p) => isLeftover(p, root));
  // SIGCONT after SIGTERM, as systemd does: a stopped process could not act on the SIGTERM.
  for (const p of left) {
    signal(p, "SIGTERM");
    signal(p, "SIGCONT");
  }
  if (!(await waitGone(left, root, graceMs))) {
    for (const p of left) if (isLeftover(p, root)) signal(p, "SIGKILL");
    await waitGone(left, root, 2000);
  }
  return left;
}
