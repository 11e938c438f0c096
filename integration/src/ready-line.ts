import { waitUntil } from "@hyperhive/shared/testing";
import type { WaitStrategy } from "testcontainers";

type Container = Parameters<WaitStrategy["waitUntilReady"]>[0];

/**
 * A wait strategy for a container whose program prints one line when it is ready, on every start
 * (nats-server: "Server is ready"): the n-th start is ready once the container's log holds the
 * line n times. The container is the same across `restart()`, and so is this strategy, so it
 * counts the starts it has seen.
 *
 * testcontainers' own log wait (`Wait.forLogMessage`) reads a restarted container's log from its
 * `State.StartedAt`, and nats-server can print its line before docker records that time: the line
 * is skipped and the restart times out (one restart in five or six here, seen with docker 20.10).
 */
export class ReadyLineWait implements WaitStrategy {
  private starts = 0;
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(private readonly line: string) {}

  async waitUntilReady(container: Container): Promise<void> {
    const want = this.starts + 1;
    this.starts = await waitUntil(
      async () => {
        const log = await container.logs({ stdout: true, stderr: true, follow: false });
        const seen = log.toString("utf8").split(this.line).length - 1;
        return seen >= want ? seen : 0;
      },
      {
        timeoutMs: this.timeoutMs,
        intervalMs: 50,
        what: `"${this.line}" in the log (start ${want})`,
      },
    );
  }

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}
