import type { Label } from "../src/cleanup.js";

/** What the global setup hands every test file (vitest `provide` / `inject`). */
export interface IntegrationContext {
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
