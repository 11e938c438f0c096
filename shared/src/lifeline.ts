/**
 * A child's lifeline to its parent. A parent that spawns a service with `lifeline: true`
 * (`spawnService`) gives it a stdin pipe it never writes to and sets `HIVE_LIFELINE=stdin`; the OS
 * closes that pipe when the parent dies, however it dies, and the child sees EOF. This is how a
 * service notices that `hive up` (or c0re, for a harness) is gone even after a SIGKILL of it.
 */

/** The variable that tells a service where its lifeline is. */
export const LIFELINE_ENV = "HIVE_LIFELINE";
/** Its one value so far: the lifeline is stdin. */
export const LIFELINE_STDIN = "stdin";

/**
 * Calls `onGone` once, when the lifeline ends, if this process was given one; otherwise never.
 * Returns a function that stops watching.
 */
export function watchLifeline(
  onGone: () => void,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  if (env[LIFELINE_ENV] !== LIFELINE_STDIN) return () => {};
  const stdin = process.stdin;
  let fired = false;
  const gone = (): void => {
    if (fired) return;
    fired = true;
    onGone();
  };
  // Nothing is ever written: any data is ignored, only the end matters.
  const ignore = (): void => {};
  stdin.on("data", ignore);
  stdin.once("end", gone);
  stdin.once("close", gone);
  stdin.once("error", gone);
  stdin.resume();
  return () => {
    stdin.off("data", ignore);
    stdin.off("end", gone);
    stdin.off("close", gone);
    stdin.off("error", gone);
    stdin.pause();
  };
}
