import { readFileSync } from "node:fs";
import type { SocketResult } from "@hyperhive/shared";
import { socketRequest } from "./socket-client.js";

export interface WakeArgs {
  from: string;
  /** The body, or "-" to read it from stdin. */
  body: string;
}

/** Parses `--from <label> --body <text|->`; throws a usage error. */
export function parseWakeArgs(argv: string[]): WakeArgs {
  let from: string | undefined;
  let body: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--from") from = argv[++i];
    else if (a === "--body") body = argv[++i];
    else if (a?.startsWith("--from=")) from = a.slice(7);
    else if (a?.startsWith("--body=")) body = a.slice(7);
    else throw new Error(`unknown argument: ${a}`);
  }
  if (!from || body === undefined) {
    throw new Error("usage: wake --from <label> --body <text|->");
  }
  return { from, body };
}

/** Sends a wake through the socket; returns the id of the inbox message it became. */
export function sendWake(socketPath: string, args: WakeArgs): Promise<SocketResult<"wake">> {
  const body = args.body === "-" ? readFileSync(0, "utf8").replace(/\n$/, "") : args.body;
  return socketRequest(socketPath, "wake", { from: args.from, body }, { timeoutMs: 15_000 });
}
