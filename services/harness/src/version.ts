import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const PackageJson = z.looseObject({ name: z.string(), version: z.string() });
const NAME = "@hyperhive/harness";

let cached: string | undefined;

/**
 * The harness's version, from its package.json: found by walking up from this module, which sits
 * at `src/` when run from source (tests) and at `dist/src/` when built.
 */
export function harnessVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const pkg = PackageJson.safeParse(JSON.parse(readFileSync(p, "utf8")));
      if (pkg.success && pkg.data.name === NAME) {
        cached = pkg.data.version;
        return cached;
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${NAME} above this module`);
  }
}
