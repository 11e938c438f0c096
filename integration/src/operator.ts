import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type HiveRuntime,
  hivePaths,
  InboxListResponse,
  type StoredMessage,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { REPO } from "./hive.js";

const HIVE_CLI = join(REPO, "cli/bin/hive.js");

/**
 * Writes `<root>/hive.json` the way `hive up` does, so the `hive` CLI finds a hive it did not
 * start and talks to it through `natsUrl`. Its pid is this process's: the CLI takes a hive.json
 * whose pid is gone for stale. The one place that knows the file's shape besides the CLI.
 */
export function writeHiveRuntime(root: string, natsUrl: string): void {
  const runtime: HiveRuntime = {
    pid: process.pid,
    nats_url: natsUrl,
    web_url: "http://127.0.0.1:9",
    token: randomBytes(16).toString("hex"),
    started_at: Date.now(),
  };
  writeFileSync(hivePaths(root).runtimeFile, `${JSON.stringify(runtime)}\n`, { mode: 0o600 });
}

/** How one `hive` command ended. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `hive <args> --root <root>` (the built CLI) to completion. */
export function hiveCli(root: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HIVE_CLI, ...args, "--root", root],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `hive send <to> <body>` as the operator; the broker's id for the acknowledged message. */
export async function operatorSend(root: string, to: string, body: string): Promise<number> {
  const r = await hiveCli(root, ["send", to, body]);
  const id = /^sent #(\d+) to /m.exec(r.stdout)?.[1];
  if (r.code !== 0 || id === undefined) {
    throw new Error(`hive send exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return Number(id);
}

/** The operator's inbox, newest first (`hive inbox --json`). */
export async function operatorInbox(root: string): Promise<StoredMessage[]> {
  const r = await hiveCli(root, ["inbox", "--json"]);
  if (r.code !== 0) throw new Error(`hive inbox exited ${r.code}: ${r.stderr.trim()}`);
  return InboxListResponse.parse(JSON.parse(r.stdout)).messages;
}

/**
 * Waits (polling `hive inbox --json`) for a message from `from` with exactly `body`; by default
 * 45 s, an agent's turn or two with room to spare, and less than a test's 60 s.
 */
export function waitForOperatorMail(
  root: string,
  from: string,
  body: string,
  timeoutMs = 45_000,
): Promise<StoredMessage> {
  return waitUntil(
    async () => (await operatorInbox(root)).find((m) => m.from === from && m.body === body),
    { timeoutMs, intervalMs: 250, what: `"${body}" from ${from} in the operator's inbox` },
  );
}
