import { afterAll, beforeEach } from "vitest";
import { removeLabelled, sessionLabel } from "../src/cleanup.js";
import { runAll } from "../src/teardown.js";

/** What a test file hands {@link fileHooks}. */
export interface FileHooks {
  /** What to print when a test fails: the services' output. */
  output(): string | Promise<string>;
  /** Cleanup steps of the file, run in order after its tests, each even if one before failed. */
  cleanup: (() => unknown)[];
}

/**
 * The hooks of every integration test file (call inside its describe): print the services'
 * output when a test fails; after the tests run the file's cleanup, then remove every container
 * and network of this file's testcontainers session (the suite's own reaper).
 */
export function fileHooks(o: FileHooks): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => console.error(await o.output()));
  });
  afterAll(() => runAll([...o.cleanup, async () => removeLabelled(await sessionLabel())]));
}
