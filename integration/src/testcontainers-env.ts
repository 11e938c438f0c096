import type { DockerEngine } from "./engine.js";

/**
 * The environment testcontainers needs for `engine`, set in every process that uses it (the global
 * setup and each test file's worker):
 * - `DOCKER_HOST`: the engine;
 * - `TESTCONTAINERS_RYUK_DISABLED`: its reaper image cannot be pulled here; the suite removes its
 *   own containers and networks instead (see cleanup.ts);
 * - `TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1` for a local engine: this machine looks like a
 *   container (`/.dockerenv`), and testcontainers would otherwise look for the host's address
 *   by running a helper image that cannot be pulled either. A value set by the user is kept.
 */
export function testcontainersEnv(engine: DockerEngine): Record<string, string> {
  const local = engine.host.startsWith("unix://");
  return {
    DOCKER_HOST: engine.host,
    TESTCONTAINERS_RYUK_DISABLED: "true",
    ...(local
      ? { TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE ?? "127.0.0.1" }
      : {}),
  };
}
