import { createInterface } from "node:readline";

/**
 * Asks the operator, on the terminal, to type `expected` to go ahead with something that cannot
 * be undone. Resolves with what was typed (trimmed), or undefined when the input ended first
 * (Ctrl-D) or the operator pressed Ctrl-C. The question goes to stderr, so `--json` output stays clean.
 */
export function typeToConfirm(question: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve) => {
    let answer: string | undefined;
    rl.once("line", (line) => {
      answer = line.trim();
      rl.close();
    });
    // In terminal mode readline takes Ctrl-C itself; it means "no" here.
    rl.once("SIGINT", () => rl.close());
    rl.once("close", () => resolve(answer));
    rl.setPrompt(question);
    rl.prompt();
  });
}

/** Whether a person is at the other end of stdin (a prompt can be answered). */
export function interactive(): boolean {
  return process.stdin.isTTY === true;
}
