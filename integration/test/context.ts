import type { Label } from "../src/cleanup.js";

/** What the global setup hands every test file (vitest `provide` / `inject`). */
export type IntegrationContext = IntegrationReady | IntegrationUnavailable;

/**
 * The run cannot go on (no Docker, services not built): every integration test file fails with
 * this one line, while the other projects' tests still run.
 */
export interface IntegrationUnavailable {
  readonly ok: false;
  readonly problem: string;
}

/** Docker and the image are there. */
export interface IntegrationReady {
  readonly ok: true;
  /** The environment testcontainers needs (the engine's address and its settings). */
  readonly env: Record<string, string>;
  /** The nats-server image tag. */
  readonly natsImage: string;
  /** Put on every container of this run; the global teardown removes what still carries it. */
  readonly runLabel: Label;
}

declare module "vitest" {
  export interface ProvidedContext {
    integration: IntegrationContext;
  }
}

/** The context of a test file; throws the one-line problem when the run cannot go on. */
export function integrationContext(ctx: IntegrationContext): IntegrationReady {
  if (ctx.ok) return ctx;
  const e = new Error(ctx.problem);
  e.stack = ctx.problem;
  throw e;
}
