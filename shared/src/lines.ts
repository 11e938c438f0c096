/**
 * Splits a stream of text chunks into lines: `push` each chunk as it arrives, and `onLine` is
 * called with every complete line (without its `\n`). The unfinished tail is kept until its newline
 * comes; `pendingBytes` tells how much is held, so callers can cap line length.
 */
export class LineBuffer {
  #tail = "";

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const parts = (this.#tail + chunk).split("\n");
    this.#tail = parts.pop() ?? "";
    for (const line of parts) this.onLine(line);
  }

  /** UTF-8 bytes of the unfinished last line. */
  get pendingBytes(): number {
    return Buffer.byteLength(this.#tail, "utf8");
  }

  /** Forgets the unfinished tail. */
  clear(): void {
    this.#tail = "";
  }
}
