import { realpathSync } from "node:fs";
import { execa } from "execa";

/**
 * The commit the hive runs from: `git rev-parse HEAD` of the repository `hive up` was started
 * from, when it is a git checkout of its own (not a directory inside some other repository), and
 * git is there to say so; else undefined. `hive up` hands it to its services as HYPERHIVE_REV
 * (c0re passes it on to the harnesses, whose `whoami` reports it).
 */
export async function repoRev(repo: string): Promise<string | undefined> {
  const r = await execa("git", ["rev-parse", "--show-toplevel", "HEAD"], {
    cwd: repo,
    reject: false,
    stdin: "ignore",
    timeout: 10_000,
  });
  if (r.failed || r.exitCode !== 0) return undefined;
  const [top, head] = r.stdout.split("\n");
  if (top === undefined || head === undefined || !/^[0-9a-f]{40}$/.test(head)) return undefined;
  return sameDir(top, repo) ? head : undefined;
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
