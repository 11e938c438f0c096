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
      pkg("scheduler", "services/scheduler"),
      pkg("c0re", "services/c0re"),
      pkg("harness", "services/harness"),
      pkg("web", "services/web"),
      pkg("model-server", "services/model-server"),
      pkg("cli", "cli"),
      // Real services against NATS servers in containers: the global setup finds or starts a
      // Docker engine and builds the nats-server image; the setup file points testcontainers
      // at that engine in each test file's worker.
      {
        extends: true as const,
        test: {
          name: "integration",
          root: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          setupFiles: ["test/setup.ts"],
        },
      },
    ],
    // Real processes (nats-server, claude, Chromium) start inside tests and hooks: generous
    // deadlines, while every wait inside a test has its own, tighter one.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Child processes, native sqlite and signal handlers: processes, not worker threads.
    pool: "forks",
    // Two test files at once even on two cores: most of a file's time is spent waiting on the
    // processes it started (claude, services, containers). Measured: 4 min instead of 5.5.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
