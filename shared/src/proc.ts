import { readdirSync, readFileSync } from "node:fs";
import { isErrno } from "./fs.js";

/**
 * Reading other processes through Linux's /proc: the one place that parses it. Every reader
 * returns undefined for a process that is gone or not ours to read (another user, no /proc).
 */

/** The fields of `/proc/<pid>/stat` we use. */
export interface ProcStat {
  pid: number;
  /** One letter: R running, S sleeping, Z zombie, ... */
  state: string;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** When it started, in clock ticks since boot: with the pid, names one process for good. */
  startTicks: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command (field 2) is in parentheses and may itself hold spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  if (state === undefined) return undefined;
  return {
    pid,
    state,
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    startTicks: Number(rest[19]),
  };
}

/** The argv of a process. */
export function readProcCmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((a) => a !== "");
  } catch {
    return undefined;
  }
}

/** The environment a process started with. */
export function readProcEnviron(pid: number): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Every pid in /proc (empty where there is none). */
export function listPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Whether a process exists and is not a zombie (an orphan waiting for init to reap it is dead
 * for our purposes). A process of another user counts as alive.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (!isErrno(e, "EPERM")) return false;
  }
  const stat = readProcStat(pid);
  if (stat) return stat.state !== "Z";
  return process.platform !== "linux";
}

/**
 * Whether any live (non-zombie) process is left in group `pgid`. Zombies answer kill(0) until
 * init reaps them, so on Linux /proc is read instead.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (process.platform !== "linux") return true;
  return listPids().some((pid) => {
    const s = readProcStat(pid);
    return s !== undefined && s.pgrp === pgid && s.state !== "Z";
  });
}

/** Sends `signal` to process group `pgid`; a group that is gone already is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** The direct children of `pid`. */
export function childPids(pid: number): number[] {
  return listPids().filter((p) => readProcStat(p)?.ppid === pid);
}
