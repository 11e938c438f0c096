import { ErrorCode, HiveError, toWireError, type WireError } from "@hyperhive/shared";
import { ZodError } from "zod";
import { StartError } from "./child.js";

/** A failure as the wire would carry it: typed errors keep their code, the rest are mapped. */
export function wireErrorOf(e: unknown): WireError {
  if (e instanceof HiveError || e instanceof ZodError) return toWireError(e);
  if (e instanceof StartError) {
    return { code: ErrorCode.Unavailable, message: e.message, retryable: !e.permanent };
  }
  return toWireError(e);
}

/** One line: a multi-line message (a service's log tail) is joined with " | ". */
function oneLine(s: string): string {
  return s
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join(" | ");
}

/**
 * Where a command's output goes. Without `--json`: results as text on stdout, failures as one
 * `hive: …` line on stderr. With `--json`: one JSON value per line on stdout, results and
 * failures alike (a failure is the wire's `{"error":{code,message,retryable}}`). Lines for the
 * operator (`say`: what `hive up` sees happen) go to stderr in both modes. Writing to a terminal
 * that is gone (closed window) is not an error worth dying of.
 */
export class Output {
  readonly jsonMode: boolean;

  constructor(json: boolean) {
    this.jsonMode = json;
    const ignore = (): void => {};
    process.stdout.on("error", ignore);
    process.stderr.on("error", ignore);
  }

  /** A line of text output (nothing with --json). */
  text(line: string): void {
    if (!this.jsonMode) process.stdout.write(`${line}\n`);
  }

  /** A JSON value on its own line (nothing without --json). */
  json(value: unknown): void {
    if (this.jsonMode) process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A result: `value` as JSON, or `text`. */
  result(value: unknown, text: string): void {
    this.json(value);
    this.text(text);
  }

  /** A line for the operator on stderr, in both modes. */
  say(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** A line on stderr without --json (with it, the JSON result already says it). */
  problem(line: string): void {
    if (!this.jsonMode) process.stderr.write(`${line}\n`);
  }

  /** A failure: one `hive: …` line, or the wire error as JSON. */
  fail(e: unknown): void {
    const wire = wireErrorOf(e);
    if (this.jsonMode) this.json({ error: wire });
    else this.say(`hive: ${oneLine(wire.message)}`);
  }
}
