import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot, tempDir } from "@hyperhive/shared/testing";
import { GenericContainer, getContainerRuntimeClient, ImageName } from "testcontainers";

const run = promisify(execFile);

/** The image's recipe, shared with operators who build it by hand (see its README). */
export const NATS_IMAGE_SCRIPT = join(
  repoRoot(import.meta.url),
  "deploy/images/nats-server/nats-server-image.sh",
);

async function recipe(...args: string[]): Promise<string> {
  const { stdout } = await run("sh", [NATS_IMAGE_SCRIPT, ...args]);
  return stdout.trim();
}

/** The nats-server image the tests run, and whether this call had to build it. */
export interface NatsImage {
  /** `hyperhive/nats-server:<version of the host's nats-server>` */
  readonly tag: string;
  readonly built: boolean;
}

/**
 * Makes sure the engine has the nats-server image: built from the host's nats-server binary
 * (FROM scratch, no registry) when it is missing, through the engine's API. It is kept after the
 * run, so an engine that outlives the run builds it once.
 */
export async function ensureNatsImage(): Promise<NatsImage> {
  const tag = await recipe("tag");
  const client = await getContainerRuntimeClient();
  if (await client.image.exists(ImageName.fromString(tag))) return { tag, built: false };
  const context = tempDir("hive-nats-image-");
  try {
    await recipe("context", context.path);
    await GenericContainer.fromDockerfile(context.path).build(tag, { deleteOnExit: false });
  } finally {
    context.remove();
  }
  return { tag, built: true };
}
