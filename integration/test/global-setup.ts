import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";
import { removeRun } from "../src/cleanup.js";
import { DockerUnavailableError, dockerEngine } from "../src/engine.js";
import { missingBuilds } from "../src/hive.js";
import { ensureNatsImage } from "../src/image.js";
import { runAll } from "../src/teardown.js";
import { testcontainersEnv } from "../src/testcontainers-env.js";
import type { IntegrationContext } from "./context.js";

/**
 * Once per run: the services must be built; a Docker engine (found, or a private one started);
 * the nats-server image (built when missing). Teardown removes whatever the test files left and
 * stops a private engine.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A problem that stops the integration tests only: each of their files fails with it (see
  // setup.ts); throwing here would end the whole run, every other project's tests with it.
  const unavailable = (problem: string) => {
    const context: IntegrationContext = { ok: false, problem };
    project.provide("integration", context);
    return async () => {};
  };
  const missing = missingBuilds();
  if (missing.length > 0) {
    return unavailable(`not built (run npm run build): ${missing.join(", ")}`);
  }

  const started = performance.now();
  let engine: Awaited<ReturnType<typeof dockerEngine>>;
  try {
    engine = await dockerEngine();
  } catch (e) {
    if (e instanceof DockerUnavailableError) return unavailable(e.message);
    throw e;
  }
  const env = testcontainersEnv(engine);
  Object.assign(process.env, env);
  const runLabel = { key: "hyperhive.integration.run", value: randomUUID() };
  const teardown = (): Promise<void> =>
    runAll([
      async () => {
        const left = await removeRun(runLabel);
        if (left.containers + left.networks > 0) {
          console.log(
            `integration: removed ${left.containers} containers, ${left.networks} networks left behind`,
          );
        }
      },
      () => engine.stop(),
    ]);
  try {
    const image = await ensureNatsImage();
    console.log(
      `integration: docker ${engine.origin} at ${engine.host}; image ${image.tag}` +
        `${image.built ? " (built)" : ""}; ready in ${Math.round(performance.now() - started)} ms`,
    );
    const context: IntegrationContext = { ok: true, env, natsImage: image.tag, runLabel };
    project.provide("integration", context);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
