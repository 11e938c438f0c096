import {
  getContainerRuntimeClient,
  getReaper,
  LABEL_TESTCONTAINERS_SESSION_ID,
} from "testcontainers";

/** A docker label. */
export interface Label {
  readonly key: string;
  readonly value: string;
}

/** `key=value`, as docker's list filters take a label. */
function filter(label: Label): { label: string[] } {
  return { label: [`${label.key}=${label.value}`] };
}

/** The label testcontainers puts on every container and network of this process's session. */
export async function sessionLabel(): Promise<Label> {
  const reaper = await getReaper(await getContainerRuntimeClient());
  return { key: LABEL_TESTCONTAINERS_SESSION_ID, value: reaper.sessionId };
}

/** What a cleanup removed. */
export interface Removed {
  containers: number;
  networks: number;
}

/**
 * Removes (forced) every container carrying `label`, then every network carrying it. This is the
 * reaper's job, done by the suite itself: the reaper image cannot be pulled here.
 */
export async function removeLabelled(label: Label): Promise<Removed> {
  const { dockerode } = (await getContainerRuntimeClient()).container;
  const filters = filter(label);
  const containers = await dockerode.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) => dockerode.getContainer(c.Id).remove({ force: true, v: true })),
  );
  const networks = await dockerode.listNetworks({ filters });
  for (const n of networks) await dockerode.getNetwork(n.Id).remove();
  return { containers: containers.length, networks: networks.length };
}

/**
 * Removes what the test files of one run left behind, by the run label each of their containers
 * carries: those containers, then everything of the sessions they belonged to (their networks).
 * The backstop for a test file whose own cleanup did not run.
 */
export async function removeRun(runLabel: Label): Promise<Removed> {
  const { dockerode } = (await getContainerRuntimeClient()).container;
  const left = await dockerode.listContainers({ all: true, filters: filter(runLabel) });
  const sessions = new Set(
    left.flatMap((c) => {
      const id = c.Labels[LABEL_TESTCONTAINERS_SESSION_ID];
      return id === undefined ? [] : [id];
    }),
  );
  const removed = await removeLabelled(runLabel);
  for (const id of sessions) {
    const r = await removeLabelled({ key: LABEL_TESTCONTAINERS_SESSION_ID, value: id });
    removed.containers += r.containers;
    removed.networks += r.networks;
  }
  return removed;
}
