/**
 * Bundles the dashboard UI (`src/ui`, TSX with Preact and signals) into `dist/ui` with esbuild:
 * `app.js` (one ES module with everything the pages need), `style.css`, and their source maps.
 * Run by the package's `build` script after `tsc -b`, which has already typechecked `src/ui`
 * against its own tsconfig. `--watch` rebuilds on every change (for working on the UI).
 */
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, context, type Metafile } from "esbuild";

/** The package root, from `dist/src/build-ui.js`. */
const root = fileURLToPath(new URL("../../", import.meta.url));

const options: BuildOptions = {
  absWorkingDir: root,
  entryPoints: ["src/ui/app.tsx", "src/ui/style.css"],
  outdir: "dist/ui",
  bundle: true,
  format: "esm",
  platform: "browser",
  // What a current Chromium, Firefox or Safari runs as is.
  target: ["es2022", "chrome111", "firefox111", "safari16"],
  tsconfig: "src/ui/tsconfig.json",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
};

/** One line per output file with its size and gzipped size. */
function report(meta: Metafile): void {
  for (const out of Object.keys(meta.outputs)) {
    if (out.endsWith(".map")) continue;
    const bytes = readFileSync(`${root}${out}`);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    process.stdout.write(`ui: ${out} ${kb(bytes.length)} (gzip ${kb(gzipSync(bytes).length)})\n`);
  }
}

if (process.argv.includes("--watch")) {
  const ctx = await context(options);
  await ctx.watch();
  process.stdout.write("ui: watching src/ui for changes (Ctrl-C stops)\n");
} else {
  // A clean directory: the assets served are exactly what this build made.
  rmSync(`${root}dist/ui`, { recursive: true, force: true });
  const result = await build(options);
  if (result.metafile) report(result.metafile);
}
