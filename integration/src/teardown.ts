/**
 * Runs every cleanup step in order, each even if one before it failed, then throws what failed
 * (the error itself if one step failed, an AggregateError if several did).
 */
export async function runAll(steps: readonly (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, "several cleanup steps failed");
}
