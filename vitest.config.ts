import { defineConfig } from "vitest/config";

/**
 * One project per package: `npm test` runs them all in one vitest run. Tests are TypeScript run
 * from source; the services they spawn as child processes are the built `dist/` entry points, so
 * the build runs first (scripts/test.mjs).
 */
const pkg = (name: string, root: string) => ({
  extends: true as const,
  test: { name, root, include: ["test/**/*.test.ts"] },
});

export default defineConfig({
  test: {
    projects: [
      pkg("shared", "shared"),
      pkg("broker", "services/broker"),
      pkg("c0re", "services/c0re"),
      pkg("harness", "services/harness"),
      pkg("web", "services/web"),
      pkg("model-server", "services/model-server"),
      pkg("cli", "cli"),
    ],
    // Real processes (nats-server, claude, Chromium) start inside tests and hooks: generous
    // deadlines, while every wait inside a test has its own, tighter one.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Child processes, native sqlite and signal handlers: processes, not worker threads.
    pool: "forks",
  },
});
